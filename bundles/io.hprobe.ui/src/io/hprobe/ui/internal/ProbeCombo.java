package io.hprobe.ui.internal;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;
import java.util.function.Predicate;

import org.eclipse.jdt.annotation.Nullable;
import org.eclipse.swt.SWT;
import org.eclipse.swt.widgets.Combo;
import org.eclipse.swt.widgets.Composite;

import io.hprobe.core.model.Probe;

/**
 * A read-only combo of some of a VM's probes (those that aggregate, those that return), the selection kept
 * by probe id while the list changes under it.
 */
public final class ProbeCombo {

    private final Combo combo;
    private List<Integer> ids = List.of();

    public ProbeCombo(Composite parent) {
        combo = new Combo(parent, SWT.READ_ONLY);
    }

    public Combo combo() {
        return combo;
    }

    /**
     * Lists the probes that pass, each as label says; the one selected stays so (else the first is).
     *
     * @return whether the list changed
     */
    public boolean show(List<Probe> probes, Predicate<Probe> which, Function<Probe, String> label) {
        List<Integer> now = new ArrayList<>();
        List<String> items = new ArrayList<>();
        for (Probe p : probes) {
            if (which.test(p)) {
                now.add(p.id());
                items.add(label.apply(p));
            }
        }
        if (now.equals(ids) || combo.isDisposed()) {
            return false;
        }
        Integer was = selected();
        ids = List.copyOf(now);
        combo.setItems(items.toArray(String[]::new));
        int at = was != null ? now.indexOf(was) : -1;
        combo.select(at >= 0 ? at : now.isEmpty() ? -1 : 0);
        return true;
    }

    /** The selected probe's id, or null. */
    public @Nullable Integer selected() {
        int i = combo.isDisposed() ? -1 : combo.getSelectionIndex();
        return i >= 0 && i < ids.size() ? ids.get(i) : null;
    }

    /** Selects a listed probe; false when it is not listed. */
    public boolean select(int probe) {
        int at = ids.indexOf(probe);
        if (at < 0 || combo.isDisposed()) {
            return false;
        }
        combo.select(at);
        return true;
    }

    public boolean isEmpty() {
        return ids.isEmpty();
    }
}
