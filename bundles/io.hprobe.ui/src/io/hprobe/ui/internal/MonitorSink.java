package io.hprobe.ui.internal;

import org.eclipse.core.runtime.IProgressMonitor;
import org.eclipse.core.runtime.SubMonitor;

import io.hprobe.core.journal.ProgressSink;

/**
 * The core's {@link ProgressSink} on an Eclipse progress monitor: progress as a thousand ticks of a job's
 * task, cancellation from the monitor (the Cancel button of the Progress view).
 */
public final class MonitorSink implements ProgressSink {

    private static final int TICKS = 1000;

    private final IProgressMonitor monitor;
    private final SubMonitor sub;
    private int reported;

    /** Begins the task on monitor, named name. */
    public MonitorSink(IProgressMonitor monitor, String name) {
        this.monitor = monitor;
        this.sub = SubMonitor.convert(monitor, name, TICKS);
    }

    @Override
    public void progress(long done, long total) {
        int now = total > 0 ? (int) (Math.min(done, total) * TICKS / total) : 0;
        if (now > reported) {
            sub.worked(now - reported);
            reported = now;
        }
    }

    @Override
    public boolean isCancelled() {
        return monitor.isCanceled();
    }
}
