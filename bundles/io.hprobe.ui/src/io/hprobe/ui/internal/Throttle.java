package io.hprobe.ui.internal;

import java.util.concurrent.atomic.AtomicBoolean;

import org.eclipse.swt.widgets.Control;
import org.eclipse.swt.widgets.Display;

/**
 * Coalesces model changes into at most one UI refresh per period: a burst of 500 hit batches becomes a few
 * redraws. Safe to call from any thread; the refresh runs on the UI thread while the control lives.
 */
public final class Throttle {

    private final Control control;
    private final int periodMs;
    private final Runnable refresh;
    private final AtomicBoolean pending = new AtomicBoolean();

    public Throttle(Control control, int periodMs, Runnable refresh) {
        this.control = control;
        this.periodMs = periodMs;
        this.refresh = refresh;
    }

    public void request() {
        if (!pending.compareAndSet(false, true)) {
            return;
        }
        Display d = Display.getDefault();
        d.asyncExec(() -> {
            if (control.isDisposed()) {
                return;
            }
            d.timerExec(periodMs, () -> {
                pending.set(false);
                if (!control.isDisposed()) {
                    refresh.run();
                }
            });
        });
    }
}
