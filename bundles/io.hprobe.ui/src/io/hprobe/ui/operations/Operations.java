package io.hprobe.ui.operations;

import org.eclipse.core.commands.ExecutionException;
import org.eclipse.core.commands.operations.IOperationHistory;
import org.eclipse.core.commands.operations.IUndoableOperation;
import org.eclipse.core.runtime.IStatus;
import org.eclipse.core.runtime.Status;
import org.eclipse.core.runtime.jobs.Job;
import org.eclipse.ui.PlatformUI;

import io.hprobe.ui.internal.Jobs;

/** Runs undoable operations through the workbench operation history, in a job (they wait for the agent). */
public final class Operations {

    private Operations() {
    }

    public static IOperationHistory history() {
        return PlatformUI.getWorkbench().getOperationSupport().getOperationHistory();
    }

    /** Executes op in a job; a failure opens the error dialog. Returns the scheduled job. */
    public static Job execute(IUndoableOperation op) {
        Job job = Job.create(op.getLabel(), monitor -> {
            try {
                IStatus s = history().execute(op, monitor, null);
                return s.isOK() ? Status.OK_STATUS : s;
            } catch (ExecutionException e) {
                return Jobs.error(op.getLabel(), e.getCause() != null ? e.getCause() : e);
            }
        });
        job.schedule();
        return job;
    }
}
