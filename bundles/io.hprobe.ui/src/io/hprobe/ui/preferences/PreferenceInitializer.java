package io.hprobe.ui.preferences;

import org.eclipse.core.runtime.preferences.AbstractPreferenceInitializer;
import org.eclipse.jface.preference.IPreferenceStore;

import io.hprobe.core.model.LibvirtConnection;

/**
 * Preference defaults. The agent ones can be given as system properties (hprobe.agent.socket,
 * hprobe.agent, hprobe.agent.stateDir), so a test run or a launcher script can point the workbench at its
 * own agent without a workspace.
 */
public class PreferenceInitializer extends AbstractPreferenceInitializer {

    @Override
    public void initializeDefaultPreferences() {
        IPreferenceStore s = Prefs.store();
        s.setDefault(Prefs.AGENT_SOCKET, System.getProperty("hprobe.agent.socket", "")); //$NON-NLS-1$ //$NON-NLS-2$
        s.setDefault(Prefs.AGENT_BINARY, System.getProperty("hprobe.agent", "")); //$NON-NLS-1$ //$NON-NLS-2$
        s.setDefault(Prefs.AGENT_STATE_DIR, System.getProperty("hprobe.agent.stateDir", "")); //$NON-NLS-1$ //$NON-NLS-2$
        s.setDefault(Prefs.AGENT_START, true);
        s.setDefault(Prefs.HIT_CAPACITY, 2_000_000L);
        s.setDefault(Prefs.TIMELINE_WINDOW_S, 30);
        s.setDefault(Prefs.TIMELINE_LANES, "probe"); //$NON-NLS-1$
        s.setDefault(Prefs.COLOR_BACK_EDGE, "200,60,0"); //$NON-NLS-1$
        s.setDefault(Prefs.COLOR_ALERT, "220,0,0"); //$NON-NLS-1$
        s.setDefault(Prefs.PROBE_ARGS, 2);
        s.setDefault(Prefs.LAB_SMP, 1);
        s.setDefault(Prefs.LAB_MEM, 512);
        s.setDefault(Prefs.LIBVIRT_URI, LibvirtConnection.DEFAULT_URI);
        s.setDefault(Prefs.SSH_COMMAND, "ssh"); //$NON-NLS-1$
    }
}
