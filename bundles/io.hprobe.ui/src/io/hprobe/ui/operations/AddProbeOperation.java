package io.hprobe.ui.operations;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import org.eclipse.core.commands.ExecutionException;
import org.eclipse.core.commands.operations.AbstractOperation;
import org.eclipse.core.runtime.IAdaptable;
import org.eclipse.core.runtime.IProgressMonitor;
import org.eclipse.core.runtime.IStatus;
import org.eclipse.core.runtime.Status;
import org.eclipse.jdt.annotation.Nullable;
import org.eclipse.osgi.util.NLS;
import org.eclipse.ui.PlatformUI;

import io.hprobe.core.model.Agent;
import io.hprobe.core.model.Probe;
import io.hprobe.core.model.ProbeRequest;
import io.hprobe.core.model.Vm;
import io.hprobe.core.protocol.AgentException;
import io.hprobe.ui.Messages;

/**
 * Adding a probe, undoable: undo removes it, redo adds it again as it was asked for (the agent gives the
 * new probe a new id). Runs the agent commands synchronously: execute it from a job.
 */
public class AddProbeOperation extends AbstractOperation {

    static final long TIMEOUT_S = 60;

    private final Vm vm;
    private final ProbeRequest request;
    private int probeId;

    public AddProbeOperation(Vm vm, ProbeRequest request) {
        super(NLS.bind(Messages.Op_addProbe, request.spec()));
        this.vm = vm;
        this.request = request;
        addContext(PlatformUI.getWorkbench().getOperationSupport().getUndoContext());
    }

    /** The id of the probe added by the last execute or redo, 0 before. */
    public int probeId() {
        return probeId;
    }

    static Agent agent(Vm vm) throws ExecutionException {
        Agent a = vm.agent();
        if (a == null || !vm.isLive()) {
            throw new ExecutionException(NLS.bind(Messages.Error_offline, vm.name()));
        }
        return a;
    }

    /** Waits for an agent command; its failure becomes an ExecutionException carrying the AgentException. */
    static <T> T await(CompletableFuture<T> f) throws ExecutionException {
        try {
            return f.get(TIMEOUT_S, TimeUnit.SECONDS);
        } catch (java.util.concurrent.ExecutionException e) {
            Throwable c = e.getCause();
            AgentException a = AgentException.unwrap(c);
            throw new ExecutionException(a != null ? a.getMessage() : String.valueOf(e.getMessage()),
                    a != null ? a : c);
        } catch (java.util.concurrent.TimeoutException e) {
            throw new ExecutionException(Messages.Error_timeout, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new ExecutionException(Messages.Error_timeout, e);
        }
    }

    @Override
    public IStatus execute(@Nullable IProgressMonitor monitor, @Nullable IAdaptable info) throws ExecutionException {
        Probe p = await(agent(vm).addProbe(vm, request));
        probeId = p.id();
        return Status.OK_STATUS;
    }

    @Override
    public IStatus redo(@Nullable IProgressMonitor monitor, @Nullable IAdaptable info) throws ExecutionException {
        return execute(monitor, info);
    }

    @Override
    public IStatus undo(@Nullable IProgressMonitor monitor, @Nullable IAdaptable info) throws ExecutionException {
        await(agent(vm).removeProbe(vm, probeId));
        return Status.OK_STATUS;
    }

    @Override
    public boolean canUndo() {
        return probeId != 0 && vm.isLive();
    }

    @Override
    public boolean canRedo() {
        return vm.isLive();
    }
}
