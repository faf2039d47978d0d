package io.hprobe.core.timeline;

import java.util.Arrays;

import io.hprobe.core.model.HitStore;

/**
 * The latencies of one return probe's hits in a time range: exact percentiles (nearest rank, as
 * bpftrace's and HdrHistogram's), a power-of-two histogram (the buckets of the agent's hist(), and of
 * bpftrace's), and the points of a latency-over-time scatter: every call while they are fewer than two per
 * pixel column, else each column's fastest and slowest, so a million calls draw as a few thousand points
 * and no outlier is lost.
 *
 * @param count   calls in the range
 * @param buckets calls per power of two: buckets[k] counts latencies in [2^k, 2^(k+1)) ns (0 ns in [0])
 * @param points  store indexes of the scatter's points, in time order
 */
public record Latencies(long count, long min, long max, long p50, long p90, long p99, long[] buckets, long[] points) {

    /** The empty summary. */
    public static final Latencies NONE = new Latencies(0, 0, 0, 0, 0, 0, new long[64], new long[0]);

    /** The first bucket holding a call, or -1. */
    public int firstBucket() {
        for (int k = 0; k < buckets.length; k++) {
            if (buckets[k] > 0) {
                return k;
            }
        }
        return -1;
    }

    /** The last bucket holding a call, or -1. */
    public int lastBucket() {
        for (int k = buckets.length - 1; k >= 0; k--) {
            if (buckets[k] > 0) {
                return k;
            }
        }
        return -1;
    }

    /** The power-of-two bucket of a latency. */
    public static int bucket(long ns) {
        return ns <= 1 ? 0 : 63 - Long.numberOfLeadingZeros(ns);
    }

    /**
     * @param probe   the return probe
     * @param fromNs  range start (host monotonic ns)
     * @param toNs    range end, exclusive
     * @param columns the scatter's width in pixels: two points at most per column
     */
    public static Latencies of(HitStore store, int probe, long fromNs, long toNs, int columns) {
        long lo = store.first(), hi = store.size();
        if (store.isTimeSorted()) {
            lo = store.lowerBound(fromNs);
            hi = store.lowerBound(toNs);
        }
        int nc = Math.max(1, columns);
        double scale = (double) nc / Math.max(1, toNs - fromNs);
        long[] fastest = new long[nc], slowest = new long[nc];
        Arrays.fill(fastest, -1);
        Arrays.fill(slowest, -1);
        long[] all = new long[1024];
        long[] every = new long[2 * nc]; // the calls' indexes while they fit
        long[] buckets = new long[64];
        int n = 0;
        for (long i = lo; i < hi; i++) {
            long t = store.time(i), lat = store.latency(i);
            if (lat < 0 || t < fromNs || t >= toNs || store.probe(i) != probe) {
                continue;
            }
            if (n == all.length) {
                all = Arrays.copyOf(all, n * 2);
            }
            if (n < every.length) {
                every[n] = i;
            }
            all[n++] = lat;
            buckets[bucket(lat)]++;
            int col = (int) Math.min(nc - 1, (long) ((t - fromNs) * scale));
            if (fastest[col] < 0 || lat < store.latency(fastest[col])) {
                fastest[col] = i;
            }
            if (slowest[col] < 0 || lat > store.latency(slowest[col])) {
                slowest[col] = i;
            }
        }
        if (n == 0) {
            return NONE;
        }
        long[] sorted = Arrays.copyOf(all, n);
        Arrays.sort(sorted);
        if (n <= every.length) {
            return new Latencies(n, sorted[0], sorted[n - 1], rank(sorted, 50), rank(sorted, 90), rank(sorted, 99),
                    buckets, Arrays.copyOf(every, n));
        }
        long[] points = new long[2 * nc];
        int np = 0;
        for (int c = 0; c < nc; c++) {
            if (fastest[c] >= 0) {
                points[np++] = fastest[c];
                if (slowest[c] != fastest[c]) {
                    points[np++] = slowest[c];
                }
            }
        }
        long[] pts = Arrays.copyOf(points, np);
        Arrays.sort(pts);
        return new Latencies(n, sorted[0], sorted[n - 1], rank(sorted, 50), rank(sorted, 90), rank(sorted, 99), buckets,
                pts);
    }

    /** The nearest-rank percentile: the smallest value with at least pct% of the values at or below it. */
    static long rank(long[] sorted, int pct) {
        int r = (int) Math.ceil(pct / 100.0 * sorted.length);
        return sorted[Math.max(0, Math.min(sorted.length - 1, r - 1))];
    }
}
