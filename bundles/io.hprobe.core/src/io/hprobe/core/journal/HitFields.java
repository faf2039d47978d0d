package io.hprobe.core.journal;

import java.util.ArrayList;
import java.util.List;

import org.eclipse.jdt.annotation.Nullable;

import com.sun.jna.Memory;
import com.sun.jna.Pointer;

import io.hprobe.core.journal.HitField.Type;

/**
 * The fields of a hit as libhprobe lists them (hp_hit__fields), read once; a built-in copy of the table
 * when libhprobe cannot be loaded or its table cannot be checked.
 * <p>
 * C gives the table no length: HP_HF_COUNT is a compile-time constant. The binding reads as many rows as the
 * library's own CSV heading (hp_hit__csv_header) names fields, which the table always has, and requires
 * each row to be the field of that column: a library whose table differs from what this binding can read
 * gives the built-in list, never a read past the table's end.
 */
public final class HitFields {

    private static final int HEADING_CAP = 8192;

    /** The table of this version of hit.c, in its order. */
    static final List<HitField> DEFAULTS = List.of(//
            field("seq", Type.UINT, true, false, "Seq", "the hit's record number in the VM's journal"), //$NON-NLS-1$ //$NON-NLS-2$ //$NON-NLS-3$
            field("time_ns", Type.UINT, true, false, "Time (ns)", "host CLOCK_MONOTONIC at the hit"), //$NON-NLS-1$ //$NON-NLS-2$ //$NON-NLS-3$
            field("rel_ns", Type.INT, false, false, "Since start (ns)", "time since the journal's start"), //$NON-NLS-1$ //$NON-NLS-2$ //$NON-NLS-3$
            field("probe", Type.UINT, true, false, "Probe", "the probe's id"), //$NON-NLS-1$ //$NON-NLS-2$ //$NON-NLS-3$
            field("spec", Type.TEXT, false, false, "Spec", "the probe's spec"), //$NON-NLS-1$ //$NON-NLS-2$ //$NON-NLS-3$
            field("vcpu", Type.UINT, true, false, "vCPU", "the vCPU (0-based) that hit"), //$NON-NLS-1$ //$NON-NLS-2$ //$NON-NLS-3$
            field("pid", Type.INT, true, true, "PID", "the task's pid (thread id); null when unknown"), //$NON-NLS-1$ //$NON-NLS-2$ //$NON-NLS-3$
            field("tgid", Type.INT, true, true, "TGID", "the task's thread group (process) id; null when unknown"), //$NON-NLS-1$ //$NON-NLS-2$ //$NON-NLS-3$
            field("comm", Type.TEXT, true, true, "Comm", "the task's name (guest bytes, escaped); null when unknown"), //$NON-NLS-1$ //$NON-NLS-2$ //$NON-NLS-3$
            field("ip", Type.ADDR, true, false, "IP", "the probed instruction's address"), //$NON-NLS-1$ //$NON-NLS-2$ //$NON-NLS-3$
            field("cr3", Type.ADDR, false, false, "CR3", "the address space (page table root)"), //$NON-NLS-1$ //$NON-NLS-2$ //$NON-NLS-3$
            field("user", Type.BOOL, true, false, "User", "a probe in a guest program (not the kernel)"), //$NON-NLS-1$ //$NON-NLS-2$ //$NON-NLS-3$
            field("blocked", Type.BOOL, true, false, "Blocked", "a virtual patch returned an error instead"), //$NON-NLS-1$ //$NON-NLS-2$ //$NON-NLS-3$
            field("retval", Type.INT, true, true, "Return value", //$NON-NLS-1$ //$NON-NLS-2$
                    "a return probe's return value (rax, signed; left out of other hits)"), //$NON-NLS-1$
            field("latency_ns", Type.UINT, true, true, "Latency (ns)", //$NON-NLS-1$ //$NON-NLS-2$
                    "a return probe's time from the call's entry to this return, host CLOCK_MONOTONIC " //$NON-NLS-1$
                            + "(left out of other hits)"), //$NON-NLS-1$
            field("args", Type.ARGS, true, false, "Args", "the function's arguments, as unsigned integers"), //$NON-NLS-1$ //$NON-NLS-2$ //$NON-NLS-3$
            field("memaddr", Type.ADDR, true, true, "Mem at", //$NON-NLS-1$ //$NON-NLS-2$
                    "where the captured memory was read (left out when the probe captures none)"), //$NON-NLS-1$
            field("mem", Type.BYTES, true, true, "Mem", //$NON-NLS-1$ //$NON-NLS-2$
                    "the captured memory, hex (empty when unreadable; left out when the probe captures none)"), //$NON-NLS-1$
            field("regs", Type.REGS, true, true, "Regs", //$NON-NLS-1$ //$NON-NLS-2$
                    "every register, by name (left out unless the probe asks for them)")); //$NON-NLS-1$

    private static @Nullable List<HitField> fields;
    private static String source = ""; //$NON-NLS-1$

    private HitFields() {
    }

    private static HitField field(String name, Type type, boolean inStream, boolean optional, String title,
            String doc) {
        return new HitField(name, type, inStream, true, optional, title, doc);
    }

    /** The fields, in the table's order: libhprobe's, else the built-in copy. */
    public static synchronized List<HitField> all() {
        List<HitField> f = fields;
        if (f == null) {
            String why;
            if (!LibHprobe.load()) {
                why = Journals.unavailableReason();
            } else {
                try {
                    f = fromLibrary();
                    why = null;
                } catch (JournalException e) {
                    why = e.getMessage();
                }
            }
            if (f == null) {
                f = DEFAULTS;
                source = "built in (" + why + ")"; //$NON-NLS-1$ //$NON-NLS-2$
            } else {
                source = "libhprobe"; //$NON-NLS-1$
            }
            fields = f;
        }
        return f;
    }

    /** Where {@link #all()} comes from: "libhprobe", or "built in" with the reason. */
    public static synchronized String source() {
        all();
        return source;
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
