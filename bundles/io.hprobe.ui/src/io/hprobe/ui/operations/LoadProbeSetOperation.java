package io.hprobe.ui.operations;

import java.nio.file.Path;

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
import io.hprobe.core.model.ProbeSetFiles;
import io.hprobe.core.model.Vm;
import io.hprobe.core.protocol.AgentException;
import io.hprobe.ui.Messages;

/**
 * Loading a probe set file into a VM, undoable: undo removes what it added (detectors first, their probes
 * go with them), redo loads the file again. A set the CLI refuses was taken back whole by it. Runs
 * synchronously: execute it from a job.
 */
public class LoadProbeSetOperation extends AbstractOperation {

    private final Vm vm;
    private final Path file;
    private final ProbeSetFiles files;
    private ProbeSetFiles.@Nullable Loaded loaded;

    public LoadProbeSetOperation(Vm vm, Path file, ProbeSetFiles files) {
        super(NLS.bind(Messages.Op_loadProbeSet, file.getFileName()));
        this.vm = vm;
        this.file = file;
        this.files = files;
        addContext(PlatformUI.getWorkbench().getOperationSupport().getUndoContext());
    }

    /** What the last execute or redo added, null before. */
    public ProbeSetFiles.@Nullable Loaded loaded() {
        return loaded;
    }

    @Override
    public IStatus execute(@Nullable IProgressMonitor monitor, @Nullable IAdaptable info) throws ExecutionException {
        Agent a = AddProbeOperation.agent(vm);
        try {
            loaded = files.load(a.socket(), vm.name(), file);
        } catch (AgentException e) {
            throw new ExecutionException(e.getMessage(), e);
        }
        // the agent's PROBE events bring the probes; its detectors are listed again
        AddProbeOperation.await(a.refreshDetectors(vm));
        return Status.OK_STATUS;
    }

    @Override
    public IStatus redo(@Nullable IProgressMonitor monitor, @Nullable IAdaptable info) throws ExecutionException {
        return execute(monitor, info);
    }

    @Override
    public IStatus undo(@Nullable IProgressMonitor monitor, @Nullable IAdaptable info) throws ExecutionException {
        ProbeSetFiles.Loaded l = loaded;
        Agent a = AddProbeOperation.agent(vm);
        if (l != null) {
            for (int d : l.detectors()) {
                AddProbeOperation.await(a.removeDetector(vm, d));
            }
            for (int p : l.probes()) {
                AddProbeOperation.await(a.removeProbe(vm, p));
            }
        }
        loaded = null;
        return Status.OK_STATUS;
    }

    @Override
    public boolean canUndo() {
        return loaded != null && vm.isLive();
    }

    @Override
    public boolean canRedo() {
        return vm.isLive();
    }
}
