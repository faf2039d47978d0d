package io.hprobe.ui.internal;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import io.hprobe.core.journal.HitField;
import io.hprobe.core.journal.HitFields;
import io.hprobe.core.model.Hit;
import io.hprobe.core.model.Probe;
import io.hprobe.core.model.Vm;
import io.hprobe.ui.Messages;

/**
 * The hit fields (libhprobe's one table, {@link HitFields}) that the in-memory model can show, with their
 * text: the Properties view has them all as rows, the hits table most as columns (not the host clock, nor
 * the spec that the probe's label stands for: the table stays readable on one screen). The titles and docs
 * are the table's; the fields the store does not keep (cr3, captured memory, registers) come from a hit's
 * journal record in the Properties view only.
 */
public final class HitColumns {

    /** Text of a field for one hit of a VM. */
    @FunctionalInterface
    public interface Value {

        String of(Vm vm, Hit hit);
    }

    /** A column: the field, its text, and how it is laid out. */
    public record Column(HitField field, Value value, int width, boolean right) {
    }

    private record Layout(Value value, int width, boolean right, boolean inTable) {
    }

    private static final Map<String, Layout> HELD = new HashMap<>();

    static {
        held("seq", 60, true, true, (vm, h) -> Long.toString(h.seq())); //$NON-NLS-1$
        held("time_ns", 125, true, false, (vm, h) -> Long.toString(h.timeNs())); //$NON-NLS-1$
        held("rel_ns", 140, true, true, (vm, h) -> Long.toString(h.timeNs() - origin(vm))); //$NON-NLS-1$
        held("probe", 170, false, true, HitColumns::probe); //$NON-NLS-1$
        held("spec", 190, false, false, HitColumns::spec); //$NON-NLS-1$
        held("vcpu", 45, true, true, (vm, h) -> Integer.toString(h.vcpu())); //$NON-NLS-1$
        held("pid", 55, true, true, (vm, h) -> Format.task(h.pid())); //$NON-NLS-1$
        held("tgid", 55, true, true, (vm, h) -> Format.task(h.tgid())); //$NON-NLS-1$
        held("comm", 110, false, true, (vm, h) -> h.pid() < 0 ? Messages.Hits_taskUnknown : h.comm()); //$NON-NLS-1$
        held("ip", 165, false, true, HitColumns::ip); //$NON-NLS-1$
        held("user", 50, false, true, (vm, h) -> yesNo(h.user())); //$NON-NLS-1$
        held("blocked", 60, false, true, (vm, h) -> yesNo(h.blocked())); //$NON-NLS-1$
        // in the Args column too, as the CLI prints them: the table stays one screen wide
        held("retval", 110, true, false, HitColumns::retval); //$NON-NLS-1$
        held("latency_ns", 95, true, false, (vm, h) -> h.isReturn() ? Long.toString(h.latencyNs()) : ""); //$NON-NLS-1$ //$NON-NLS-2$
        held("args", 240, false, true, HitColumns::args); //$NON-NLS-1$
    }

    private HitColumns() {
    }

    private static void held(String name, int width, boolean right, boolean inTable, Value value) {
        HELD.put(name, new Layout(value, width, right, inTable));
    }

    /** The VM's time origin (the journal's start when known, else its first hit), as the timeline counts. */
    private static long origin(Vm vm) {
        long o = vm.timeOriginNs();
        return o == Long.MIN_VALUE ? 0 : o;
    }

    /** A kernel IP by the guest kernel's name for it (asked of the agent once), else the number. */
    private static String ip(Vm vm, Hit h) {
        String name = h.user() ? null : vm.addressName(h.ip());
        return name != null ? name : Format.hex(h.ip());
    }

    /** The probe's id, and the name users know it by. */
    private static String probe(Vm vm, Hit h) {
        Probe p = vm.probeOfHit(h.probe());
        return h.probe() + (p == null ? "" : " " + p.label()); //$NON-NLS-1$ //$NON-NLS-2$
    }

    /**
     * By name where the agent knows the function's parameters (fd=3 count=7), else as numbers; a return
     * probe's hit says what the call returned and how long it took (ret=-2 ENOENT lat=12.5 µs).
     */
    private static String args(Vm vm, Hit h) {
        Probe p = vm.probeOfHit(h.probe());
        if (h.isReturn()) {
            return "ret=" + retval(vm, h) + " lat=" + Format.duration(h.latencyNs()); //$NON-NLS-1$ //$NON-NLS-2$
        }
        String named = p == null ? null : p.namedArgs(h.args(), vm::addressName);
        return named != null ? named : Format.args(h.args());
    }

    /** A return probe's value as its function's type reads it ("-2 ENOENT"); empty for other hits. */
    private static String retval(Vm vm, Hit h) {
        if (!h.isReturn()) {
            return ""; //$NON-NLS-1$
        }
        Probe p = vm.probeOfHit(h.probe());
        return p == null ? Long.toString(h.retval()) : p.namedRet(h.retval());
    }

    private static String spec(Vm vm, Hit h) {
        Probe p = vm.probeOfHit(h.probe());
        return p == null ? "" : p.spec(); //$NON-NLS-1$
    }

    private static String yesNo(boolean b) {
        return b ? Messages.Hits_yes : Messages.Hits_no;
    }

    /** Every field the model holds, in the field table's order (the Properties view's rows). */
    public static List<Column> held() {
        return columns(false);
    }

    /** The columns of the hits table, in the field table's order. */
    public static List<Column> table() {
        return columns(true);
    }

    private static List<Column> columns(boolean tableOnly) {
        List<Column> out = new ArrayList<>();
        for (HitField f : HitFields.all()) {
            Layout l = HELD.get(f.name());
            if (l != null && (l.inTable() || !tableOnly)) {
                out.add(new Column(f, l.value(), l.width(), l.right()));
            }
        }
        return out;
    }

}
