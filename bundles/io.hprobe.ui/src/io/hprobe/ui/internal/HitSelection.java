package io.hprobe.ui.internal;

import org.eclipse.core.runtime.IAdaptable;
import org.eclipse.jdt.annotation.Nullable;
import org.eclipse.jface.viewers.StructuredSelection;
import org.eclipse.swt.widgets.Display;
import org.eclipse.ui.views.properties.IPropertySource;

import com.google.gson.JsonObject;

import io.hprobe.core.model.Agent;
import io.hprobe.core.model.HitStore;
import io.hprobe.core.model.Vm;

/**
 * A selected hit (timeline point or hits table row): what the Properties view shows. Selections travel
 * through the workbench selection service, never from view to view.
 *
 * @param index   hit store index
 * @param count   hits the selected point stands for (an aggregated bucket), 1 for a single hit
 * @param record  the hit's full journal record (registers, memory) once fetched; the store keeps only the
 *                columns the views draw
 */
public record HitSelection(Vm vm, long index, int count, @Nullable JsonObject record) implements IAdaptable {

    /**
     * Selects a hit at once from the store, then asks the agent for its full record and selects it again
     * with it, unless the user has moved on meanwhile.
     */
    public static void select(SelectionProvider provider, Vm vm, long index, int count) {
        HitSelection first = new HitSelection(vm, index, count, null);
        provider.setSelection(new StructuredSelection(first));
        Agent agent = vm.agent();
        HitStore store = vm.hits();
        if (agent == null || count != 1 || index < store.first() || index >= store.size()) {
            return; // offline or a bucket: the store's columns are all there is
        }
        Display display = Display.getCurrent();
        agent.readHit(vm, store.get(index).seq()).thenAccept(rec -> {
            if (rec.size() > 0 && display != null && !display.isDisposed()) {
                display.asyncExec(() -> {
                    if (provider.getSelection() instanceof StructuredSelection s && first.equals(s.getFirstElement())) {
                        provider.setSelection(new StructuredSelection(new HitSelection(vm, index, count, rec)));
                    }
                });
            }
        });
    }

    @Override
    public <T> T getAdapter(@Nullable Class<T> adapter) {
        if (adapter == IPropertySource.class) {
            return adapter.cast(new HitPropertySource(this));
        }
        return nothing();
    }

    @SuppressWarnings("null") // IAdaptable's contract: null when there is no adapter of that type
    private static <T> T nothing() {
        return null;
    }
}
