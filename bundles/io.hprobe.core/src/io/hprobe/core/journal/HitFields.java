package io.hprobe.core.journal;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

import org.eclipse.jdt.annotation.Nullable;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.sun.jna.Memory;
import com.sun.jna.Pointer;

import io.hprobe.core.journal.HitField.Type;

/**
 * The fields of a hit as libhprobe lists them (hp_hit__fields): read from libhprobe when it loads, else as
 * the connected agent publishes the same table (agent-info's hit_fields), else none yet. There is no copy of
 * the table here: hit.c owns it.
 * <p>
 * C gives the table no length: HP_HF_COUNT is a compile-time constant. The binding reads as many rows as the
 * library's own CSV heading (hp_hit__csv_header) names fields, which the table always has, and requires
 * each row to be the field of that column: a library whose table differs from what this binding can read
 * is not used, never read past the table's end.
 */
public final class HitFields {

    private static final int HEADING_CAP = 8192;

    /** libhprobe's table, once read; null until then or when it cannot be read. */
    private static @Nullable List<HitField> library;
    private static boolean libraryTried;
    private static String libraryWhy = ""; //$NON-NLS-1$
    /** The agent's table (agent-info), or null. */
    private static @Nullable List<HitField> agent;

    private HitFields() {
    }

    /** The fields, in the table's order: libhprobe's, else the agent's, else none (no hits to show either). */
    public static synchronized List<HitField> all() {
        if (!libraryTried) {
            libraryTried = true;
            if (!LibHprobe.load()) {
                libraryWhy = String.valueOf(Journals.unavailableReason());
            } else {
                try {
                    library = fromLibrary();
                } catch (JournalException e) {
                    libraryWhy = String.valueOf(e.getMessage());
                }
            }
        }
        List<HitField> f = library != null ? library : agent;
        return f != null ? f : List.of();
    }

    /** Where {@link #all()} comes from: "libhprobe", "agent", or "none" with the reason. */
    public static synchronized String source() {
        all();
        return library != null ? "libhprobe" : agent != null ? "agent" : "none (" + libraryWhy + ")"; //$NON-NLS-1$ //$NON-NLS-2$ //$NON-NLS-3$ //$NON-NLS-4$
    }

    /**
     * Takes the table an agent published (agent-info's hit_fields), used when libhprobe cannot be read. An
     * absent or malformed table (an older agent) is ignored.
     */
    public static void adoptAgent(@Nullable JsonElement table) {
        List<HitField> f;
        try {
            f = fromJson(table);
        } catch (JournalException e) {
            return;
        }
        synchronized (HitFields.class) {
            agent = f;
        }
    }

    /** The field named name, or null. */
    public static @Nullable HitField named(String name) {
        for (HitField f : all()) {
            if (f.name().equals(name)) {
                return f;
            }
        }
        return null;
    }

    /** An agent's table (docs/protocol.md, agent-info), every row checked. */
    public static List<HitField> fromJson(@Nullable JsonElement table) throws JournalException {
        if (table == null || !table.isJsonArray() || table.getAsJsonArray().isEmpty()) {
            throw new JournalException("the agent lists no hit fields"); //$NON-NLS-1$
        }
        List<HitField> out = new ArrayList<>();
        for (JsonElement e : table.getAsJsonArray()) {
            try {
                JsonObject o = e.getAsJsonObject();
                Type type = Type.valueOf(o.get("type").getAsString().toUpperCase(Locale.ROOT)); //$NON-NLS-1$
                out.add(new HitField(o.get("name").getAsString(), type, o.get("stream").getAsBoolean(), //$NON-NLS-1$ //$NON-NLS-2$
                        o.get("export").getAsBoolean(), o.get("optional").getAsBoolean(), //$NON-NLS-1$ //$NON-NLS-2$
                        o.get("title").getAsString(), o.get("doc").getAsString())); //$NON-NLS-1$ //$NON-NLS-2$
            } catch (RuntimeException x) { // a missing member, a wrong kind, an unknown type
                throw new JournalException("the agent's hit field " + out.size() + " cannot be read: " + e); //$NON-NLS-1$ //$NON-NLS-2$
            }
        }
        return List.copyOf(out);
    }

    /** libhprobe's table, checked row by row against its CSV heading. libhprobe must be loaded. */
    static List<HitField> fromLibrary() throws JournalException {
        List<String> names;
        try (Memory heading = new Memory(HEADING_CAP)) {
            long len = LibHprobe.hp_hit__csv_header(heading, HEADING_CAP);
            if (len >= HEADING_CAP) {
                throw new JournalException("libhprobe's CSV heading is over " + HEADING_CAP + " bytes"); //$NON-NLS-1$ //$NON-NLS-2$
            }
            names = fieldNames(heading.getString(0, "UTF-8")); //$NON-NLS-1$
        }
        Pointer table = LibHprobe.hp_hit__fields();
        if (table == null || names.isEmpty()) {
            throw new JournalException("libhprobe lists no hit fields"); //$NON-NLS-1$
        }
        Type[] types = Type.values();
        List<HitField> out = new ArrayList<>(names.size());
        for (int i = 0; i < names.size(); i++) {
            Pointer row = table.share((long) i * LibHprobe.HF_SIZE);
            String name = string(row, LibHprobe.HF_NAME);
            int type = row.getInt(LibHprobe.HF_TYPE);
            int in = row.getInt(LibHprobe.HF_IN);
            if (!names.get(i).equals(name) || type < 0 || type >= types.length || (in & LibHprobe.HF_IN_EXPORT) == 0) {
                throw new JournalException("libhprobe's hit field " + i + " (" + name + ", type " + type //$NON-NLS-1$ //$NON-NLS-2$
                        + ") is not its CSV column " + names.get(i) + ": a table this workbench cannot read"); //$NON-NLS-1$ //$NON-NLS-2$
            }
            out.add(new HitField(name, types[type], (in & LibHprobe.HF_IN_STREAM) != 0, true,
                    row.getInt(LibHprobe.HF_OPTIONAL) != 0, string(row, LibHprobe.HF_TITLE),
                    string(row, LibHprobe.HF_DOC)));
        }
        return List.copyOf(out);
    }

    private static String string(Pointer row, int offset) {
        Pointer p = row.getPointer(offset);
        return p == null ? "" : p.getString(0, "UTF-8"); //$NON-NLS-1$ //$NON-NLS-2$
    }

    /**
     * The field names of a CSV heading: one column per field, except the arguments, one column each
     * (arg0, arg1...) for the one field "args".
     */
    static List<String> fieldNames(String heading) {
        List<String> names = new ArrayList<>();
        for (String col : heading.strip().split(",")) { //$NON-NLS-1$
            String name = col.matches("arg[0-9]+") ? "args" : col; //$NON-NLS-1$ //$NON-NLS-2$
            if (!name.isEmpty() && !(name.equals("args") && names.contains("args"))) { //$NON-NLS-1$ //$NON-NLS-2$
                names.add(name);
            }
        }
        return names;
    }
}
