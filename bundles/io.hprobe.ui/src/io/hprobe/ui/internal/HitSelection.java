package io.hprobe.ui.internal;

import org.eclipse.core.runtime.IAdaptable;
import org.eclipse.jdt.annotation.Nullable;
import org.eclipse.ui.views.properties.IPropertySource;

import io.hprobe.core.model.Vm;

/**
 * A selected hit (timeline point or hits table row): what the Properties view shows. Selections travel
 * through the workbench selection service, never from view to view.
 *
 * @param index   hit store index
 * @param count   hits the selected point stands for (an aggregated bucket), 1 for a single hit
 */
public record HitSelection(Vm vm, long index, int count) implements IAdaptable {

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
