package io.hprobe.ui;

import java.util.concurrent.CopyOnWriteArrayList;

import org.eclipse.jdt.annotation.Nullable;

import io.hprobe.core.model.Vm;

/**
 * The workbench-wide signals between views, in the manner of Trace Compass's signal manager: a view
 * announces ("this VM is selected", "go to this hit") and any view that cares listens. No view ever
 * holds a reference to another. All calls and notifications are on the UI thread.
 */
public final class UiContext {

    /** What views can listen to. Default methods so a listener implements only what it needs. */
    public interface Listener {

        /** The VM the views should show changed (null: none). */
        default void vmSelected(@Nullable Vm vm) {
        }

        /**
         * Someone asked to go to a moment of a VM's trace, e.g. an alert was double-clicked.
         *
         * @param timeNs host monotonic ns
         * @param hitIndex the hit store index to select there, or -1
         */
        default void focusTime(Vm vm, long timeNs, long hitIndex) {
        }

        /**
         * The time range the Hit Timeline shows changed: a user zoomed or panned to [fromNs, toNs), or (both
         * {@link UiContext#ALL}) went back to everything or to following live.
         */
        default void timeRange(Vm vm, long fromNs, long toNs) {
        }
    }

    /** {@link Listener#timeRange}'s bounds for "no range: every hit". */
    public static final long ALL = Long.MIN_VALUE;

    private final CopyOnWriteArrayList<Listener> listeners = new CopyOnWriteArrayList<>();
    private volatile @Nullable Vm vm;

    public void addListener(Listener l) {
        listeners.add(l);
    }

    public void removeListener(Listener l) {
        listeners.remove(l);
    }

    /** The VM the views show. */
    public @Nullable Vm vm() {
        return vm;
    }

    public void selectVm(@Nullable Vm newVm) {
        if (newVm == vm) {
            return;
        }
        vm = newVm;
        for (Listener l : listeners) {
            l.vmSelected(newVm);
        }
    }

    public void timeRange(Vm target, long fromNs, long toNs) {
        for (Listener l : listeners) {
            l.timeRange(target, fromNs, toNs);
        }
    }

    public void focusTime(Vm target, long timeNs, long hitIndex) {
        selectVm(target);
        for (Listener l : listeners) {
            l.focusTime(target, timeNs, hitIndex);
        }
    }
}
