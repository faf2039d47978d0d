package io.hprobe.ui.internal;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import org.eclipse.core.runtime.IStatus;
import org.eclipse.core.runtime.Status;
import org.eclipse.jface.preference.IPersistentPreferenceStore;
import org.eclipse.jface.preference.IPreferenceStore;

import io.hprobe.ui.Activator;
import io.hprobe.ui.preferences.Prefs;

/**
 * The journals opened last, newest first (File > Recent Journals), kept in the workbench's preferences and
 * saved at once: a workbench that is killed still remembers them.
 */
public final class RecentJournals {

    /** As many as Eclipse lists recent files by default. */
    public static final int MAX = 8;

    private RecentJournals() {
    }

    /** The journals, newest first. */
    public static List<Path> list() {
        List<Path> out = new ArrayList<>();
        for (String s : Prefs.store().getString(Prefs.RECENT_JOURNALS).split("\n")) { //$NON-NLS-1$
            if (!s.isBlank() && out.size() < MAX) {
                out.add(Path.of(s));
            }
        }
        return out;
    }

    /** Puts journal first (once), keeping at most {@link #MAX}. A path with a line break is not kept. */
    public static void add(Path journal) {
        String p = journal.toAbsolutePath().normalize().toString();
        if (p.contains("\n")) { //$NON-NLS-1$
            return;
        }
        List<String> all = new ArrayList<>(List.of(p));
        for (Path old : list()) {
            if (!old.toString().equals(p) && all.size() < MAX) {
                all.add(old.toString());
            }
        }
        set(String.join("\n", all)); //$NON-NLS-1$
    }

    /** Forgets every journal. */
    public static void clear() {
        set(""); //$NON-NLS-1$
    }

    private static void set(String value) {
        IPreferenceStore store = Prefs.store();
        store.setValue(Prefs.RECENT_JOURNALS, value);
        if (store instanceof IPersistentPreferenceStore p) {
            try {
                p.save();
            } catch (IOException e) {
                Activator.getDefault().getLog().log(new Status(IStatus.WARNING, Activator.PLUGIN_ID,
                        "recent journals not saved: " + e.getMessage())); //$NON-NLS-1$
            }
        }
    }
}
