package io.hprobe.core.timeline;

import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;

import io.hprobe.core.model.HitStore;

/**
 * Buckets the hits of a time range per lane in one pass over the store's columns, so a million hits
 * become at most lanes × buckets points (one per pixel column): the chart's cost no longer depends on the
 * hit count. One bucket per pixel keeps sparse ranges exact (each hit is its own point) and aggregates
 * dense ones.
 */
public final class TimelineAggregator {

    private TimelineAggregator() {
    }

    /**
     * @param fromNs  range start (host monotonic ns)
     * @param toNs    range end, exclusive, > fromNs
     * @param buckets number of buckets, typically the chart's width in pixels
     * @param hidden  lane keys to leave out
     */
    public static Timeline aggregate(HitStore store, long fromNs, long toNs, int buckets, LaneMode mode,
            Set<Integer> hidden) {
        int nb = Math.max(1, buckets);
        long span = Math.max(1, toNs - fromNs);
        long lo = store.first(), hi = store.size();
        if (store.isTimeSorted()) {
            lo = store.lowerBound(fromNs);
            hi = store.lowerBound(toNs);
        }
        Lanes lanes = new Lanes(nb);
        double scale = (double) nb / span;
        long[] total = { 0 };
        store.scan(lo, hi, (index, t, probe, pid, tgid) -> {
            if (t < fromNs || t >= toNs) {
                return;
            }
            int key = mode == LaneMode.PROBE ? probe : tgid >= 0 ? tgid : pid;
            if (!hidden.isEmpty() && hidden.contains(key)) {
                return;
            }
            int b = (int) ((t - fromNs) * scale);
            lanes.add(key, b < nb ? b : nb - 1, index);
            total[0]++;
        });
        return lanes.build(mode, fromNs, toNs, total[0]);
    }

    /** Growable per-lane bucket arrays keyed by an int, with a one-entry cache for runs of one lane. */
    private static final class Lanes {

        private final int buckets;
        private int[] keys = new int[8];
        private int[][] counts = new int[8][];
        private long[][] first = new long[8][];
        private int n;
        private int lastKey = Integer.MIN_VALUE;
        private int lastLane = -1;
        private final Map<Integer, Integer> index = new HashMap<>();

        Lanes(int buckets) {
            this.buckets = buckets;
        }

        void add(int key, int bucket, long index) {
            int lane = key == lastKey ? lastLane : find(key);
            int[] c = counts[lane];
            if (c[bucket]++ == 0) {
                first[lane][bucket] = index;
            }
        }

        private int find(int key) {
            Integer known = index.get(key);
            if (known != null) {
                lastKey = key;
                lastLane = known;
                return known;
            }
            if (n == keys.length) {
                keys = Arrays.copyOf(keys, n * 2);
                counts = Arrays.copyOf(counts, n * 2);
                first = Arrays.copyOf(first, n * 2);
            }
            keys[n] = key;
            counts[n] = new int[buckets];
            long[] f = new long[buckets];
            Arrays.fill(f, -1);
            first[n] = f;
            index.put(key, n);
            lastKey = key;
            lastLane = n;
            return n++;
        }

        Timeline build(LaneMode mode, long fromNs, long toNs, long total) {
            Integer[] order = new Integer[n];
            for (int i = 0; i < n; i++) {
                order[i] = i;
            }
            Arrays.sort(order, (a, b) -> Integer.compare(keys[a], keys[b]));
            int[] k = new int[n];
            int[][] c = new int[n][];
            long[][] f = new long[n][];
            for (int i = 0; i < n; i++) {
                k[i] = keys[order[i]];
                c[i] = counts[order[i]];
                f[i] = first[order[i]];
            }
            return new Timeline(mode, fromNs, toNs, k, c, f, total);
        }
    }
}
