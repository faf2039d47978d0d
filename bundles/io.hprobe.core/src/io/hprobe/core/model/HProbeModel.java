package io.hprobe.core.model;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

import org.eclipse.jdt.annotation.Nullable;

/**
 * The root of the model: the agents the workbench talks to and the journals opened offline. One instance
 * per workbench; views read it and listen to it, and never talk to each other.
 */
public final class HProbeModel {

    private final List<Agent> agents = new CopyOnWriteArrayList<>();
    private final List<Vm> offline = new CopyOnWriteArrayList<>();
    private final List<ModelListener> listeners = new CopyOnWriteArrayList<>();

    public void addListener(ModelListener l) {
        listeners.add(l);
    }

    public void removeListener(ModelListener l) {
        listeners.remove(l);
    }

    void fire(ModelChange.Kind kind, @Nullable Agent agent, @Nullable Vm vm) {
        ModelChange c = new ModelChange(kind, agent, vm);
        for (ModelListener l : listeners) {
            try {
                l.modelChanged(c);
            } catch (RuntimeException e) {
                e.printStackTrace(); // one faulty listener must not starve the others
            }
        }
    }

    /** Adds an agent (not yet connected). */
    public void addAgent(Agent agent) {
        agents.add(agent);
        fire(ModelChange.Kind.SESSIONS, agent, null);
    }

    public void removeAgent(Agent agent) {
        if (agents.remove(agent)) {
            agent.close();
            fire(ModelChange.Kind.SESSIONS, agent, null);
        }
    }

    public List<Agent> agents() {
        return List.copyOf(agents);
    }

    /** The local agent on this socket path, if the model has one. */
    public @Nullable Agent agent(java.nio.file.Path socket) {
        return agent(socket.toString()); // a local agent's target is its socket path
    }

    /** The agent the user named target (an ssh:// URL or a socket path), if the model has one. */
    public @Nullable Agent agent(String target) {
        for (Agent a : agents) {
            if (a.target().equals(target)) {
                return a;
            }
        }
        return null;
    }

    /** Adds a VM read from a saved journal (no agent). */
    public void addOffline(Vm vm) {
        offline.add(vm);
        fire(ModelChange.Kind.SESSIONS, null, vm);
    }

    public void removeOffline(Vm vm) {
        if (offline.remove(vm)) {
            fire(ModelChange.Kind.SESSIONS, null, vm);
        }
    }

    public List<Vm> offlineVms() {
        return List.copyOf(offline);
    }

    /** Tells listeners that something of this VM changed (used by loaders outside this package). */
    public void changed(ModelChange.Kind kind, @Nullable Vm vm) {
        fire(kind, vm == null ? null : vm.agent(), vm);
    }

    /** Closes every agent connection (the agents and their VMs keep running). */
    public void dispose() {
        for (Agent a : agents) {
            a.close();
        }
    }
}
