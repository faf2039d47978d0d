package io.hprobe.ui.preferences;

import java.nio.file.Path;

import org.eclipse.jdt.annotation.Nullable;
import org.eclipse.jface.preference.IPreferenceStore;
import org.eclipse.jface.resource.StringConverter;
import org.eclipse.swt.graphics.RGB;

import io.hprobe.core.HProbeCore;
import io.hprobe.core.model.LibvirtConnection;
import io.hprobe.core.timeline.LaneMode;
import io.hprobe.ui.Activator;

/** The preference keys and typed getters. Defaults: {@link PreferenceInitializer}. */
public final class Prefs {

    /** Agent socket; blank = the protocol's default path. */
    public static final String AGENT_SOCKET = "agent.socket"; //$NON-NLS-1$
    /** hprobed binary; blank = $HPROBE_AGENT, beside the product, on PATH. */
    public static final String AGENT_BINARY = "agent.binary"; //$NON-NLS-1$
    /** The agent's state directory when the workbench starts it; blank = the agent's default. */
    public static final String AGENT_STATE_DIR = "agent.stateDir"; //$NON-NLS-1$
    /** Start a local agent when nothing listens. */
    public static final String AGENT_START = "agent.start"; //$NON-NLS-1$
    public static final String HIT_CAPACITY = "hits.capacity"; //$NON-NLS-1$
    public static final String TIMELINE_WINDOW_S = "timeline.windowSeconds"; //$NON-NLS-1$
    public static final String TIMELINE_LANES = "timeline.lanes"; //$NON-NLS-1$
    public static final String COLOR_BACK_EDGE = "color.backEdge"; //$NON-NLS-1$
    public static final String COLOR_ALERT = "color.alert"; //$NON-NLS-1$
    public static final String PROBE_ARGS = "probe.args"; //$NON-NLS-1$
    public static final String LAB_SMP = "lab.smp"; //$NON-NLS-1$
    public static final String LAB_MEM = "lab.mem"; //$NON-NLS-1$
    /** The libvirt connection whose domains the VM Browser lists; blank = qemu:///system. */
    public static final String LIBVIRT_URI = "libvirt.uri"; //$NON-NLS-1$
    /** The ssh client and options for agents on other hosts (ssh:// URLs), split at blanks. */
    public static final String SSH_COMMAND = "ssh.command"; //$NON-NLS-1$
    /** The journals opened last, one path per line, newest first (RecentJournals). */
    public static final String RECENT_JOURNALS = "journal.recent"; //$NON-NLS-1$
    /** The Welcome page was shown once (WelcomeView: the first start only). */
    public static final String WELCOME_SHOWN = "welcome.shown"; //$NON-NLS-1$

    private Prefs() {
    }

    public static IPreferenceStore store() {
        return Activator.getDefault().getPreferenceStore();
    }

    public static Path socket() {
        String s = store().getString(AGENT_SOCKET).trim();
        return s.isEmpty() ? HProbeCore.defaultAgentSocket() : Path.of(s);
    }

    public static @Nullable String agentBinary() {
        String s = store().getString(AGENT_BINARY).trim();
        return s.isEmpty() ? null : s;
    }

    public static @Nullable Path stateDir() {
        String s = store().getString(AGENT_STATE_DIR).trim();
        return s.isEmpty() ? null : Path.of(s);
    }

    public static String libvirtUri() {
        String s = store().getString(LIBVIRT_URI).trim();
        return s.isEmpty() ? LibvirtConnection.DEFAULT_URI : s;
    }

    public static java.util.List<String> sshCommand() {
        String s = store().getString(SSH_COMMAND).trim();
        return java.util.List.of((s.isEmpty() ? "ssh" : s).split("\\s+")); //$NON-NLS-1$ //$NON-NLS-2$
    }

    public static long hitCapacity() {
        return Math.max(65536, store().getLong(HIT_CAPACITY));
    }

    public static int windowSeconds() {
        return Math.max(1, store().getInt(TIMELINE_WINDOW_S));
    }

    public static LaneMode laneMode() {
        return "process".equals(store().getString(TIMELINE_LANES)) ? LaneMode.PROCESS : LaneMode.PROBE; //$NON-NLS-1$
    }

    public static RGB color(String key) {
        return StringConverter.asRGB(store().getString(key), new RGB(200, 0, 0));
    }
}
