package io.hprobe.ui.internal;

import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Consumer;
import java.util.function.Supplier;

import org.eclipse.core.runtime.IProgressMonitor;
import org.eclipse.core.runtime.IStatus;
import org.eclipse.core.runtime.Status;
import org.eclipse.core.runtime.jobs.Job;
import org.eclipse.jdt.annotation.Nullable;
import org.eclipse.swt.widgets.Display;

import io.hprobe.core.protocol.AgentException;
import io.hprobe.ui.Activator;

/**
 * Runs agent commands in Eclipse Jobs: progress in the Progress view and status line, cancel, and an
 * error dialog that says what to do when the command fails.
 */
public final class Jobs {

    private Jobs() {
    }

    /**
     * Runs an agent command as a user job. The result goes to onSuccess on the UI thread; a failure opens
     * the error dialog titled with the job's name.
     */
    public static <T> Job agent(String name, Supplier<CompletableFuture<T>> command, @Nullable Consumer<T> onSuccess) {
        return agent(name, command, onSuccess, false);
    }

    /** {@link #agent(String, Supplier, Consumer)}; a system job does not show in the progress views. */
    public static <T> Job agent(String name, Supplier<CompletableFuture<T>> command, @Nullable Consumer<T> onSuccess,
            boolean system) {
        Job job = new Job(name) {

            @Override
            protected IStatus run(IProgressMonitor monitor) {
                monitor.beginTask(name, IProgressMonitor.UNKNOWN);
                CompletableFuture<T> f;
                try {
                    f = command.get();
                } catch (RuntimeException e) {
                    return error(name, e);
                }
                while (true) {
                    if (monitor.isCanceled()) {
                        // the agent goes on; we only stop waiting for its answer
                        return Status.CANCEL_STATUS;
                    }
                    try {
                        T value = f.get(100, TimeUnit.MILLISECONDS);
                        if (onSuccess != null) {
                            Display.getDefault().asyncExec(() -> onSuccess.accept(value));
                        }
                        return Status.OK_STATUS;
                    } catch (TimeoutException e) {
                        // poll again: keeps the job cancellable
                    } catch (ExecutionException e) {
                        if (e.getCause() instanceof CancellationException) {
                            return Status.CANCEL_STATUS; // nothing to report: see quietIfVmGone
                        }
                        return error(name, e.getCause() == null ? e : e.getCause());
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                        return Status.CANCEL_STATUS;
                    }
                }
            }
        };
        job.setUser(false);
        job.setSystem(system);
        job.schedule();
        return job;
    }

    /**
     * A command the workbench sends by itself for a VM (loading its symbols when it is selected) that fails
     * because the VM went away meanwhile (detached, powered off: UnknownVm) ends as cancelled, without an
     * error dialog: the VM Browser shows the VM gone. Other failures are reported as usual.
     */
    public static <T> CompletableFuture<T> quietIfVmGone(CompletableFuture<T> command) {
        return command.handle((value, e) -> {
            if (e == null) {
                return value;
            }
            AgentException a = AgentException.unwrap(e);
            if (a != null && "UnknownVm".equals(a.errorClass())) { //$NON-NLS-1$
                throw new CancellationException(a.desc());
            }
            throw e instanceof CompletionException c ? c : new CompletionException(e);
        });
    }

    private static volatile @Nullable String lastFailure;

    /**
     * The message of the last failed command, or null: the status line and tests read it (under a test
     * harness ErrorDialog.AUTOMATED_MODE keeps dialogs from showing).
     */
    public static @Nullable String lastFailure() {
        return lastFailure;
    }

    /** {@link #lastFailure()}, forgotten: a failure a test caused on purpose is not reported again. */
    public static @Nullable String takeLastFailure() {
        String f = lastFailure;
        lastFailure = null;
        return f;
    }

    /** Shows the failure in the error dialog (asynchronously) and returns a status that is not shown again. */
    public static IStatus error(String what, Throwable t) {
        lastFailure = ErrorDialogs.message(what, t);
        Activator.getDefault().getLog().log(new Status(IStatus.WARNING, Activator.PLUGIN_ID, lastFailure, t));
        Display.getDefault().asyncExec(() -> ErrorDialogs.show(null, what, t));
        AgentException a = AgentException.unwrap(t);
        // OK_STATUS-like severity keeps the Jobs framework from opening a second, less helpful dialog
        return new Status(IStatus.INFO, Activator.PLUGIN_ID,
                a != null ? a.getMessage() : String.valueOf(t.getMessage()));
    }
}
