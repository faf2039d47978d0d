package io.hprobe.core.model;

import java.util.HashSet;
import java.util.Set;
import java.util.concurrent.TimeUnit;

import io.hprobe.core.protocol.AgentEvent;
import io.hprobe.core.protocol.Json;

/**
 * Applies what an agent pushes (docs/protocol.md, Events) to its VMs in the model, on the connection's
 * reader thread: hit batches, probe and detector changes, detector states, alerts, console text and VM
 * states. What an event does not carry is re-read through the agent's commands.
 */
final class AgentEvents {

    /** Hit counts come from probe-list: re-read it at most this often while hits flow. */
    private static final long PROBE_REFRESH_MS = 500;

    private final Agent agent;
    private final Set<String> probeRefreshPending = new HashSet<>();

    AgentEvents(Agent agent) {
        this.agent = agent;
    }

    void apply(AgentEvent e) {
        String vmName = e.vm();
        Vm vm = vmName == null ? null : agent.vm(vmName);
        switch (e.name()) {
            case "HITS" : //$NON-NLS-1$
                if (vm != null) {
                    HitBatches.append(vm, Json.arr(e.data(), "hits")); //$NON-NLS-1$
                    scheduleProbeRefresh(vm);
                }
                break;
            case "VM_STATE" : //$NON-NLS-1$
                if (vm != null) {
                    vm.setInfo(
                            vm.info().withState(Json.str(e.data(), "state", "?"), Json.strOrNull(e.data(), "reason"))); //$NON-NLS-1$ //$NON-NLS-2$ //$NON-NLS-3$
                }
                agent.refreshVms(); // a VM may have appeared (launched by another client) or gone
                break;
            case "PROBE" : //$NON-NLS-1$
                // the whole probe (added, enabled, disabled...) or what changed (stale, pending): nothing to re-read
                if (vm != null) {
                    vm.applyProbeChange(e.data());
                }
                break;
            case "DETECTOR" : //$NON-NLS-1$
                if (vm != null) {
                    agent.refreshDetectors(vm);
                }
                break;
            case "DETECTOR_STATE" : //$NON-NLS-1$
                if (vm != null) {
                    vm.applyDetectorState(e.data());
                }
                break;
            case "ALERT" : //$NON-NLS-1$
                if (vm != null) {
                    vm.addAlert(e.data(), vm.hits().count() > 0 ? vm.hits().time(vm.hits().size() - 1) : 0);
                }
                break;
            case "CONSOLE" : //$NON-NLS-1$
                if (vm != null && e.data().has("text")) { //$NON-NLS-1$
                    String text = Json.str(e.data(), "text", ""); //$NON-NLS-1$ //$NON-NLS-2$
                    vm.appendConsole(text, Json.lng(e.data(), "offset", vm.consoleOffset() + text.length())); //$NON-NLS-1$
                }
                break;
            default :
                break; // HITS_LAGGING and future events: the journal catch-up needs nothing from us
        }
    }

    /** Hit counts live in probe-list: re-read it at most twice a second while hits flow. */
    private void scheduleProbeRefresh(Vm vm) {
        synchronized (probeRefreshPending) {
            if (!probeRefreshPending.add(vm.name())) {
                return;
            }
        }
        agent.session().schedule(() -> {
            synchronized (probeRefreshPending) {
                probeRefreshPending.remove(vm.name());
            }
            if (!vm.isGone()) {
                agent.refreshProbes(vm);
            }
        }, PROBE_REFRESH_MS, TimeUnit.MILLISECONDS);
    }
}
