package io.hprobe.ui;

import java.nio.file.Path;

import org.eclipse.core.runtime.IStatus;
import org.eclipse.core.runtime.Platform;
import org.eclipse.core.runtime.Status;
import org.eclipse.core.runtime.jobs.Job;
import org.eclipse.jdt.annotation.Nullable;
import org.eclipse.osgi.service.datalocation.Location;

import io.hprobe.core.model.Agent;
import io.hprobe.core.model.AgentLauncher;
import io.hprobe.core.model.HProbeModel;
import io.hprobe.core.model.SshTunnel;
import io.hprobe.core.protocol.AgentException;
import io.hprobe.ui.preferences.Prefs;

/** The workbench's single model and signal context, and the local agent started on demand. */
public final class HProbeUi {

    private static @Nullable HProbeModel model;
    private static @Nullable UiContext context;

    private HProbeUi() {
    }

    public static synchronized HProbeModel model() {
        HProbeModel m = model;
        if (m == null) {
            m = new HProbeModel();
            model = m;
        }
        return m;
    }

    /** UI thread only. */
    public static synchronized UiContext context() {
        UiContext c = context;
        if (c == null) {
            c = new UiContext();
            context = c;
        }
        return c;
    }

    static synchronized void dispose() {
        HProbeModel m = model;
        if (m != null) {
            m.dispose();
        }
        model = null;
    }

    /**
     * The agent on the preferred socket, added to the model and connected in a background job (started
     * first if nothing listens and the preferences allow it). Returns at once.
     */
    public static synchronized Agent localAgent() {
        Path socket = Prefs.socket();
        Agent existing = model().agent(socket);
        if (existing != null) {
            return existing;
        }
        return addAgent(socket, Prefs.store().getBoolean(Prefs.AGENT_START));
    }

    /**
     * Adds an agent by socket path, or on another host by an ssh:// URL, and connects it in a job.
     *
     * @throws IllegalArgumentException when target is a bad ssh:// URL
     */
    public static synchronized Agent addAgent(String target, boolean startIfAbsent) {
        if (!SshTunnel.isSsh(target)) {
            return addAgent(Path.of(target), startIfAbsent);
        }
        Agent existing = model().agent(target);
        if (existing != null) {
            return existing;
        }
        SshTunnel tunnel;
        try {
            tunnel = SshTunnel.create(target, Prefs.sshCommand());
        } catch (java.io.IOException e) {
            throw new IllegalStateException("no temporary directory for the SSH socket: " + e.getMessage(), e); //$NON-NLS-1$
        }
        return add(new Agent(model(), tunnel, Prefs.hitCapacity()));
    }

    /** Adds an agent by socket path and connects it in a job. */
    public static synchronized Agent addAgent(Path socket, boolean startIfAbsent) {
        Agent existing = model().agent(socket);
        if (existing != null) {
            return existing;
        }
        AgentLauncher launcher = null;
        if (startIfAbsent) {
            Path binary = agentBinary();
            if (binary != null) {
                launcher = new AgentLauncher(binary, Prefs.stateDir());
            }
        }
        return add(new Agent(model(), socket, launcher, Prefs.hitCapacity()));
    }

    private static Agent add(Agent agent) {
        agent.libvirt().setUri(Prefs.libvirtUri());
        model().addAgent(agent);
        connect(agent);
        return agent;
    }

    /**
     * The libvirt connection URI of the preferences changed (the preference page, or the VM Browser's
     * libvirt node): every agent lists that connection's domains from now on.
     */
    static void preferenceChanged(org.eclipse.jface.util.PropertyChangeEvent event) {
        if (!Prefs.LIBVIRT_URI.equals(event.getProperty())) {
            return;
        }
        String uri = Prefs.libvirtUri();
        for (Agent a : model().agents()) {
            if (!a.libvirt().uri().equals(uri)) {
                a.libvirt().setUri(uri);
                if (a.state() == Agent.State.CONNECTED) {
                    a.libvirt().refresh();
                }
            }
        }
    }

    /** (Re)connects an agent in a job; failures show in the VM browser, not in a dialog. */
    public static void connect(Agent agent) {
        Job job = Job.create(org.eclipse.osgi.util.NLS.bind(Messages.Job_connect, agent.target()), monitor -> {
            try {
                agent.connect();
                return Status.OK_STATUS;
            } catch (AgentException e) {
                // the agent's state and lastError say it in the VM browser; no modal dialog at start-up
                return new Status(IStatus.INFO, Activator.PLUGIN_ID, e.getMessage());
            }
        });
        job.setSystem(false);
        job.schedule();
    }

    /** The hprobed to start: the preference's, $HPROBE_AGENT, beside the product, on PATH; null if none. */
    public static @Nullable Path agentBinary() {
        return AgentLauncher.findBinary(Prefs.agentBinary(), path(Platform.getInstallLocation()));
    }

    /** A platform location (the product's install, the workspace) as a path; null if unset. */
    public static @Nullable Path path(@Nullable Location l) {
        if (l == null || l.getURL() == null) {
            return null;
        }
        try {
            return Path.of(l.getURL().toURI());
        } catch (java.net.URISyntaxException | IllegalArgumentException e) {
            return Path.of(l.getURL().getPath());
        }
    }
}
