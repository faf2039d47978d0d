package io.hprobe.core.model;

import org.eclipse.jdt.annotation.Nullable;

import com.google.gson.JsonObject;

/**
 * What the user asks for in probe-add: where (spec), what to capture, which processes, and how.
 *
 * @param spec    kernel:FUNC[+OFF], 0xADDR, or app:BINARY:FUNC[+OFF]
 * @param args    arguments to capture, 0..6
 * @param mem     memory to capture, e.g. "arg2:s64", or null
 * @param pid     process filter, -1 for none
 * @param comm    command-name filter, or null
 * @param count   true for a counting probe (no per-hit records)
 * @param enabled armed at once
 * @param cond    a condition on each hit ("fd == 1 && count > 4096", the protocol's "if"), or null
 * @param agg     an aggregation the hits feed instead of the journal ("count() by comm"), or null
 */
public record ProbeRequest(String spec, int args, @Nullable String mem, boolean regs, int pid, @Nullable String comm,
        boolean count, boolean enabled, @Nullable String cond, @Nullable String agg) {

    /** A capturing probe at spec for every process, with nothing captured but the hit itself. */
    public static ProbeRequest at(String spec) {
        return new ProbeRequest(spec, 0, null, false, -1, null, false, true, null, null);
    }

    /** The same request for another spec (undo/redo re-adds a probe as it was asked for). */
    public ProbeRequest withSpec(String other) {
        return new ProbeRequest(other, args, mem, regs, pid, comm, count, enabled, cond, agg);
    }

    /** The probe-add arguments, vm excluded. */
    public JsonObject toJson() {
        JsonObject o = new JsonObject();
        o.addProperty("spec", spec); //$NON-NLS-1$
        if (args > 0) {
            o.addProperty("args", Math.min(args, 6)); //$NON-NLS-1$
        }
        String m = mem;
        if (m != null && !m.isBlank()) {
            o.addProperty("mem", m.trim()); //$NON-NLS-1$
        }
        if (regs) {
            o.addProperty("regs", true); //$NON-NLS-1$
        }
        if (pid >= 0) {
            o.addProperty("pid", pid); //$NON-NLS-1$
        }
        String c = comm;
        if (c != null && !c.isBlank()) {
            o.addProperty("comm", c.trim()); //$NON-NLS-1$
        }
        if (count) {
            o.addProperty("kind", "count"); //$NON-NLS-1$ //$NON-NLS-2$
        }
        if (!enabled) {
            o.addProperty("enabled", false); //$NON-NLS-1$
        }
        String x = cond;
        if (x != null && !x.isBlank()) {
            o.addProperty("if", x.trim()); //$NON-NLS-1$
        }
        String a = agg;
        if (a != null && !a.isBlank()) {
            o.addProperty("agg", a.trim()); //$NON-NLS-1$
        }
        return o;
    }

    /** The request that would re-create an existing probe (for redo after its removal was undone). */
    public static ProbeRequest of(Probe p) {
        return new ProbeRequest(p.spec(), p.args(), p.mem(), p.regs(), p.pid(), p.comm(), "count".equals(p.kind()), //$NON-NLS-1$
                p.enabled(), p.cond(), p.agg());
    }
}
