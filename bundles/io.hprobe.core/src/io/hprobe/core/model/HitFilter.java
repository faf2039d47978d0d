package io.hprobe.core.model;

import java.util.Arrays;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.function.BooleanSupplier;

/**
 * Which hits a view or an export wants: probe ids, processes (pid or tgid, or a part of the command name,
 * ignoring case: a hit passes if either matches), and a time range in host monotonic ns. Empty means "all".
 */
public record HitFilter(Set<Integer> probes, Set<Integer> processes, String comm, long fromNs, long toNs) {

    public static final HitFilter ALL = new HitFilter(Set.of(), Set.of(), Long.MIN_VALUE, Long.MAX_VALUE);

    public HitFilter {
        probes = Set.copyOf(probes);
        processes = Set.copyOf(processes);
        comm = comm.toLowerCase(Locale.ROOT);
    }

    public HitFilter(Set<Integer> probes, Set<Integer> processes, long fromNs, long toNs) {
        this(probes, processes, "", fromNs, toNs); //$NON-NLS-1$
    }

    public boolean isAll() {
        return probes.isEmpty() && processes.isEmpty() && comm.isEmpty() && fromNs == Long.MIN_VALUE
                && toNs == Long.MAX_VALUE;
    }

    /** Whether hit i passes; commMatches caches the answer per interned comm id. */
    private boolean accepts(HitStore s, long i, Map<Integer, Boolean> commMatches) {
        if (!probes.isEmpty() && !probes.contains(s.probe(i))) {
            return false;
        }
        if ((!processes.isEmpty() || !comm.isEmpty()) && !processMatches(s, i, commMatches)) {
            return false;
        }
        long t = s.time(i);
        return t >= fromNs && t <= toNs;
    }

    private boolean processMatches(HitStore s, long i, Map<Integer, Boolean> commMatches) {
        if (processes.contains(s.pid(i)) || processes.contains(s.tgid(i))) {
            return true;
        }
        return !comm.isEmpty() && commMatches.computeIfAbsent(s.commId(i),
                id -> s.commName(id).toLowerCase(Locale.ROOT).contains(comm));
    }

    /**
     * The indexes of matching hits in [from, to). Checks cancel every 64k rows.
     *
     * @return the matching indexes, or null if cancelled
     */
    public long @org.eclipse.jdt.annotation.Nullable [] select(HitStore s, long from, long to, BooleanSupplier cancel) {
        long lo = Math.max(from, s.first());
        if (fromNs != Long.MIN_VALUE && s.isTimeSorted()) {
            lo = Math.max(lo, s.lowerBound(fromNs));
        }
        long[] out = new long[1024];
        int n = 0;
        Map<Integer, Boolean> commMatches = new HashMap<>();
        for (long i = lo; i < to; i++) {
            if ((i & 0xffff) == 0 && cancel.getAsBoolean()) {
                return null;
            }
            if (s.isTimeSorted() && s.time(i) > toNs) {
                break;
            }
            if (accepts(s, i, commMatches)) {
                if (n == out.length) {
                    out = Arrays.copyOf(out, n * 2);
                }
                out[n++] = i;
            }
        }
        return Arrays.copyOf(out, n);
    }
}
