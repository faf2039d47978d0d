package io.hprobe.core.timeline;

/**
 * Hits of a time range bucketed per lane: what the chart draws. Immutable once built.
 *
 * @param fromNs    start of the range (host monotonic ns), bucket 0 starts here
 * @param toNs      end of the range (exclusive)
 * @param laneKeys  probe id or process id of each lane, sorted
 * @param counts    counts[lane][bucket]
 * @param firstHit  firstHit[lane][bucket]: store index of the bucket's first hit, -1 if empty
 * @param total     hits in the range
 */
public record Timeline(LaneMode mode, long fromNs, long toNs, int[] laneKeys, int[][] counts, long[][] firstHit,
        long total) {

    public int buckets() {
        return counts.length == 0 ? 0 : counts[0].length;
    }

    public double bucketWidthNs() {
        int b = buckets();
        return b == 0 ? 0 : (double) (toNs - fromNs) / b;
    }

    /** Start time of a bucket. */
    public long bucketStart(int bucket) {
        return fromNs + (long) (bucket * bucketWidthNs());
    }

    /** Number of non-empty (lane, bucket) cells: the points to draw. */
    public int cells() {
        int n = 0;
        for (int[] lane : counts) {
            for (int c : lane) {
                if (c > 0) {
                    n++;
                }
            }
        }
        return n;
    }
}
