package io.hprobe.core.model;

import java.util.List;
import java.util.function.LongFunction;

import org.eclipse.jdt.annotation.Nullable;

import com.google.gson.JsonObject;

import io.hprobe.core.internal.Posix;
import io.hprobe.core.protocol.Json;

/**
 * A probe as the agent reports it (probe-list, PROBE events, journal PROBE records). Immutable: a change
 * replaces the whole record in its VM.
 *
 * @param hits     hits counted by the agent (the authority; the hit store may hold fewer)
 * @param state    armed, disabled, pending or stale
 * @param detector id of the detector that owns it, 0 for the user's own probes
 * @param params   its function's parameters (null: unknown; empty: none), {@link Param#listOf}
 * @param retType  a return probe's return type, or null
 * @param retErrno whether a negative return is -errno (a syscall's)
 * @param agg      what its hits are summed into ("count() by comm"), or null: journalled
 */
public record Probe(int id, String spec, long addr, String function, boolean enabled, long hits, String kind,
        String mechanism, String state, int args, @Nullable String mem, boolean regs, int pid, @Nullable String comm,
        int detector, @Nullable String reason, @Nullable List<Param> params, @Nullable Param retType, boolean retErrno,
        @Nullable String cond, @Nullable String agg) {

    static Probe fromJson(JsonObject o) {
        return new Probe(Json.integer(o, "id", 0), Json.str(o, "spec", ""), Json.addr(o, "addr", 0), //$NON-NLS-1$ //$NON-NLS-2$ //$NON-NLS-3$ //$NON-NLS-4$
                Json.str(o, "function", ""), Json.bool(o, "enabled", true), Json.lng(o, "hits", 0), //$NON-NLS-1$ //$NON-NLS-2$ //$NON-NLS-3$ //$NON-NLS-4$
                Json.str(o, "kind", "capture"), Json.str(o, "mechanism", ""), Json.str(o, "state", ""), //$NON-NLS-1$ //$NON-NLS-2$ //$NON-NLS-3$ //$NON-NLS-4$ //$NON-NLS-5$ //$NON-NLS-6$
                Json.integer(o, "args", 0), Json.strOrNull(o, "mem"), Json.bool(o, "regs", false), //$NON-NLS-1$ //$NON-NLS-2$ //$NON-NLS-3$
                Json.integer(o, "pid", -1), Json.strOrNull(o, "comm"), Json.integer(o, "detector", 0), //$NON-NLS-1$ //$NON-NLS-2$ //$NON-NLS-3$
                Json.strOrNull(o, "reason"), Param.listOf(o), Param.returnOf(o), //$NON-NLS-1$
                Json.bool(Json.obj(o, "ret_type"), "errno", false), Json.strOrNull(o, "if"), //$NON-NLS-1$ //$NON-NLS-2$ //$NON-NLS-3$
                Json.strOrNull(o, "agg")); //$NON-NLS-1$
    }

    /** A PROBE event's partial record applied on top of this one (events carry only what changed). */
    Probe merge(JsonObject o) {
        return new Probe(id, Json.str(o, "spec", spec), Json.addr(o, "addr", addr), Json.str(o, "function", function), //$NON-NLS-1$ //$NON-NLS-2$ //$NON-NLS-3$
                Json.bool(o, "enabled", enabled), Json.lng(o, "hits", hits), Json.str(o, "kind", kind), //$NON-NLS-1$ //$NON-NLS-2$ //$NON-NLS-3$
                Json.str(o, "mechanism", mechanism), Json.str(o, "state", state), Json.integer(o, "args", args), //$NON-NLS-1$ //$NON-NLS-2$ //$NON-NLS-3$
                o.has("mem") ? Json.strOrNull(o, "mem") : mem, Json.bool(o, "regs", regs), Json.integer(o, "pid", pid), //$NON-NLS-1$ //$NON-NLS-2$ //$NON-NLS-3$ //$NON-NLS-4$
                o.has("comm") ? Json.strOrNull(o, "comm") : comm, Json.integer(o, "detector", detector), //$NON-NLS-1$ //$NON-NLS-2$ //$NON-NLS-3$
                o.has("reason") ? Json.strOrNull(o, "reason") : reason, //$NON-NLS-1$ //$NON-NLS-2$
                o.has("params") ? Param.listOf(o) : params, o.has("ret_type") ? Param.returnOf(o) : retType, //$NON-NLS-1$ //$NON-NLS-2$
                o.has("ret_type") ? Json.bool(Json.obj(o, "ret_type"), "errno", false) : retErrno, //$NON-NLS-1$ //$NON-NLS-2$ //$NON-NLS-3$
                o.has("if") ? Json.strOrNull(o, "if") : cond, o.has("agg") ? Json.strOrNull(o, "agg") : agg); //$NON-NLS-1$ //$NON-NLS-2$ //$NON-NLS-3$ //$NON-NLS-4$
    }

    Probe withHits(long count) {
        return new Probe(id, spec, addr, function, enabled, count, kind, mechanism, state, args, mem, regs, pid, comm,
                detector, reason, params, retType, retErrno, cond, agg);
    }

    /** Whether it is a return probe (FUNC%return): its hits carry a return value and a latency. */
    public boolean isReturn() {
        return spec.endsWith("%return"); //$NON-NLS-1$
    }

    /** The name users know it by: the function for symbol specs, else the spec. */
    public String label() {
        String s = spec;
        if (s.startsWith("kernel:")) { //$NON-NLS-1$
            return s.substring(7);
        }
        if (s.startsWith("app:")) { //$NON-NLS-1$
            int colon = s.lastIndexOf(':');
            return s.substring(colon + 1);
        }
        return s;
    }

    /**
     * The arguments of a hit of this probe as the CLI shows them: "fd=3 buf=0x7ffd… count=7" (argN past the
     * function's parameters), or null when its parameters are unknown.
     */
    public @Nullable String namedArgs(long[] values) {
        return namedArgs(values, a -> null);
    }

    /**
     * The same, each pointer that names gives a name followed by it in angle brackets, as the CLI's table
     * shows a pointer into the kernel's functions: func=0xffffffff811c0a10&lt;delayed_put_task_struct&gt;.
     */
    public @Nullable String namedArgs(long[] values, LongFunction<@Nullable String> names) {
        List<Param> ps = params;
        if (ps == null) {
            return null;
        }
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < values.length; i++) {
            b.append(i > 0 ? " " : ""); //$NON-NLS-1$ //$NON-NLS-2$
            if (i >= ps.size()) {
                b.append("arg" + (i + 1) + "=0x" + Long.toHexString(values[i])); //$NON-NLS-1$ //$NON-NLS-2$
                continue;
            }
            Param p = ps.get(i);
            b.append(p.name()).append('=').append(p.format(values[i]));
            String name = "ptr".equals(p.cls()) ? names.apply(values[i]) : null; //$NON-NLS-1$
            if (name != null) {
                b.append('<').append(name).append('>');
            }
        }
        return b.toString();
    }

    /**
     * A return value of this probe as libhprobe's named_ret reads it: typed by the function's return type, a
     * syscall's -errno with its name ("-2 ENOENT"); signed decimal when the type is unknown.
     */
    public String namedRet(long raw) {
        Param r = retType;
        if (r == null) {
            return Long.toString(raw);
        }
        String v = r.format(raw);
        long typed = r.value(raw);
        // the kernel's -errno range (MAX_ERRNO), as hp_param__errno_name
        String name = retErrno && "int".equals(r.cls()) && typed < 0 && typed >= -4095 //$NON-NLS-1$
                ? Posix.errnoName((int) -typed)
                : null;
        return name != null ? v + " " + name : v; //$NON-NLS-1$
    }

    /** The process filter and condition as text, or "" when the probe keeps every hit. */
    public String filterText() {
        StringBuilder b = new StringBuilder();
        if (pid >= 0) {
            b.append("pid ").append(pid); //$NON-NLS-1$
        }
        String c = comm;
        if (c != null && !c.isEmpty()) {
            b.append(b.length() > 0 ? ", " : "").append("comm ").append(c); //$NON-NLS-1$ //$NON-NLS-2$ //$NON-NLS-3$
        }
        String x = cond;
        if (x != null && !x.isEmpty()) {
            b.append(b.length() > 0 ? ", " : "").append("if ").append(x); //$NON-NLS-1$ //$NON-NLS-2$ //$NON-NLS-3$
        }
        return b.toString();
    }
}
