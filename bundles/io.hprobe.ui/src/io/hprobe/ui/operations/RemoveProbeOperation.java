package io.hprobe.ui.operations;

import org.eclipse.core.commands.ExecutionException;
import org.eclipse.core.commands.operations.AbstractOperation;
import org.eclipse.core.runtime.IAdaptable;
import org.eclipse.core.runtime.IProgressMonitor;
import org.eclipse.core.runtime.IStatus;
import org.eclipse.core.runtime.Status;
import org.eclipse.jdt.annotation.Nullable;
import org.eclipse.osgi.util.NLS;
import org.eclipse.ui.PlatformUI;

import io.hprobe.core.model.Probe;
import io.hprobe.core.model.ProbeRequest;
import io.hprobe.core.model.Vm;
import io.hprobe.ui.Messages;

/**
 * Removing a probe, undoable: undo adds it back with the same spec, captures and filter (and enabled
 * state); its hits stay in the journal either way.
 */
public class RemoveProbeOperation extends AbstractOperation {

    private final Vm vm;
    private final ProbeRequest request;
    private int probeId;

    public RemoveProbeOperation(Vm vm, Probe probe) {
        super(NLS.bind(Messages.Op_removeProbe, probe.label()));
        this.vm = vm;
        this.request = ProbeRequest.of(probe);
        this.probeId = probe.id();
        addContext(PlatformUI.getWorkbench().getOperationSupport().getUndoContext());
    }

    @Override
    public IStatus execute(@Nullable IProgressMonitor monitor, @Nullable IAdaptable info) throws ExecutionException {
        AddProbeOperation.await(AddProbeOperation.agent(vm).removeProbe(vm, probeId));
        return Status.OK_STATUS;
    }

    @Override
    public IStatus undo(@Nullable IProgressMonitor monitor, @Nullable IAdaptable info) throws ExecutionException {
        Probe p = AddProbeOperation.await(AddProbeOperation.agent(vm).addProbe(vm, request));
        probeId = p.id();
        return Status.OK_STATUS;
    }

    @Override
    public IStatus redo(@Nullable IProgressMonitor monitor, @Nullable IAdaptable info) throws ExecutionException {
        return execute(monitor, info);
    }

    @Override
    public boolean canUndo() {
        return vm.isLive();
    }

    @Override
    public boolean canRedo() {
        return vm.isLive();
    }
}
