package io.hprobe.ui.internal;

import java.nio.file.Path;

import org.eclipse.core.runtime.Status;
import org.eclipse.core.runtime.jobs.Job;
import org.eclipse.jdt.annotation.Nullable;
import org.eclipse.osgi.util.NLS;

import io.hprobe.core.model.Agent;
import io.hprobe.core.model.ProbeSetFiles;
import io.hprobe.core.model.Vm;
import io.hprobe.core.protocol.AgentException;
import io.hprobe.ui.Activator;
import io.hprobe.ui.HProbeUi;
import io.hprobe.ui.Messages;
import io.hprobe.ui.operations.LoadProbeSetOperation;
import io.hprobe.ui.operations.Operations;

/** Probe set files for File > Open/Save Probe Set and a set dropped on a VM: through the CLI (ProbeSetFiles). */
public final class ProbeSets {

    private ProbeSets() {
    }

    /** The CLI beside the agent (or $HPROBE_CLI, or on PATH); null, with the error shown, when there is none. */
    private static @Nullable ProbeSetFiles files(String what) {
        ProbeSetFiles f = ProbeSetFiles.find(HProbeUi.agentBinary());
        if (f == null) {
            Jobs.error(what, new AgentException(AgentException.DISCONNECTED, Messages.ProbeSet_noCli,
                    (com.google.gson.JsonElement) null));
        }
        return f;
    }

    /** Loads the set in file into vm, undoably, in a job; a refusal (by line and member) opens the error dialog. */
    public static @Nullable Job open(Vm vm, Path file) {
        ProbeSetFiles f = files(Messages.ProbeSet_open);
        return f == null ? null : Operations.execute(new LoadProbeSetOperation(vm, file, f));
    }

    /** Writes vm's probes and detectors as a set to file, in a job. */
    public static @Nullable Job save(Vm vm, Path file) {
        ProbeSetFiles f = files(Messages.ProbeSet_save);
        Agent a = vm.agent();
        if (f == null || a == null) {
            return null;
        }
        String name = NLS.bind(Messages.Job_saveProbeSet, vm.name(), file);
        Job job = Job.create(name, monitor -> {
            try {
                return new Status(Status.OK, Activator.PLUGIN_ID, f.save(a.socket(), vm.name(), file));
            } catch (AgentException e) {
                return Jobs.error(name, e);
            }
        });
        job.schedule();
        return job;
    }
}
