package io.hprobe.ui.internal;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;

import org.eclipse.jdt.annotation.Nullable;
import org.eclipse.osgi.util.NLS;

import io.hprobe.core.model.Agent;
import io.hprobe.core.model.AttachOptions;
import io.hprobe.core.model.LaunchOptions;
import io.hprobe.core.model.LibvirtConnection;
import io.hprobe.core.model.LibvirtDomain;
import io.hprobe.core.model.Vm;
import io.hprobe.core.protocol.AgentException;
import io.hprobe.ui.HProbeUi;
import io.hprobe.ui.Messages;
import io.hprobe.ui.preferences.Prefs;

/**
 * What the VM actions do, shared by the VM browser's buttons and the global commands (menus, key
 * bindings): each one is an agent command in a job, and the model updates the views.
 */
public final class VmActions {

    private VmActions() {
    }

    /** Connects first when needed (on the job's thread), then runs the command. */
    private static <T> CompletableFuture<T> connected(Agent agent,
            java.util.function.Function<Agent, CompletableFuture<T>> f) {
        if (agent.state() != Agent.State.CONNECTED) {
            try {
                agent.connect();
            } catch (AgentException e) {
                return CompletableFuture.failedFuture(e);
            }
        }
        return f.apply(agent);
    }

    /** target, or the local agent when none is given or the model has let target go (it is closed then). */
    private static Agent orLocal(@Nullable Agent target) {
        return target != null && HProbeUi.model().agents().contains(target) ? target : HProbeUi.localAgent();
    }

    public static void launchLab(@Nullable Agent target) {
        Agent agent = orLocal(target);
        LaunchOptions o = new LaunchOptions(null, Prefs.store().getInt(Prefs.LAB_SMP),
                Prefs.store().getInt(Prefs.LAB_MEM), true);
        Jobs.agent(Messages.Job_launch, () -> connected(agent, a -> a.launchLab(o)),
                vm -> HProbeUi.context().selectVm(vm));
    }

    public static void attach(@Nullable Agent target, AttachOptions options) {
        Agent agent = orLocal(target);
        Jobs.agent(NLS.bind(Messages.Job_attach, options.qmp()), () -> connected(agent, a -> a.attach(options)),
                vm -> HProbeUi.context().selectVm(vm));
    }

    /**
     * Attaches a running libvirt domain of an agent's libvirt connection, and shows the VM it becomes.
     *
     * @param plugin false to keep every probe on the gdbstub even when the domain's QEMU has our plugin
     */
    public static void attachLibvirt(LibvirtConnection connection, LibvirtDomain domain, boolean plugin) {
        Jobs.agent(NLS.bind(Messages.Job_attachLibvirt, domain.name(), connection.uri()),
                () -> connected(connection.agent(), a -> connection.attach(domain, plugin)),
                vm -> HProbeUi.context().selectVm(vm));
    }

    /** Lists a libvirt connection's domains again; a failure shows on the libvirt node, not in a dialog. */
    public static void refreshLibvirt(LibvirtConnection connection) {
        if (connection.agent().state() == Agent.State.CONNECTED) {
            connection.refresh();
        }
    }

    private static Agent agentOf(Vm vm) {
        Agent a = vm.agent();
        if (a == null) {
            throw new CompletionException(new AgentException(AgentException.DISCONNECTED,
                    NLS.bind(Messages.Error_offline, vm.name()), (com.google.gson.JsonElement) null));
        }
        return a;
    }

    public static void detach(Vm vm) {
        Jobs.agent(NLS.bind(Messages.Job_detach, vm.name()), () -> agentOf(vm).detach(vm), null);
    }

    public static void quit(Vm vm) {
        Jobs.agent(NLS.bind(Messages.Job_quit, vm.name()), () -> agentOf(vm).quit(vm), null);
    }

    public static void pause(Vm vm) {
        Jobs.agent(NLS.bind(Messages.Job_pause, vm.name()), () -> agentOf(vm).pause(vm), null);
    }

    public static void resume(Vm vm) {
        Jobs.agent(NLS.bind(Messages.Job_resume, vm.name()), () -> agentOf(vm).resume(vm), null);
    }

    /** Re-reads the process list; failures only leave the old list (it refreshes often). */
    public static void refreshProcessesQuietly(Vm vm) {
        Agent a = vm.agent();
        if (a != null && vm.isLive() && vm.info().isRunning()) {
            a.refreshProcesses(vm);
        }
    }
}
