package io.hprobe.ui.views;

import org.jfree.data.xy.AbstractXYDataset;
import org.jfree.data.xy.XYZDataset;

import io.hprobe.core.timeline.Timeline;

/**
 * A {@link Timeline} as a JFreeChart dataset without copying it into XYSeries: one series per lane, one
 * item per non-empty bucket; x is the bucket's middle in seconds since the VM's time origin, y the lane, z
 * the hits the point stands for.
 */
final class TimelineDataset extends AbstractXYDataset implements XYZDataset {

    private static final long serialVersionUID = 1L;

    private final transient Timeline timeline;
    private final String[] names;
    private final int[][] buckets;
    private final long originNs;

    TimelineDataset(Timeline timeline, String[] names, long originNs) {
        this.timeline = timeline;
        this.names = names;
        this.originNs = originNs;
        int lanes = timeline.laneKeys().length;
        buckets = new int[lanes][];
        for (int l = 0; l < lanes; l++) {
            int[] c = timeline.counts()[l];
            int n = 0;
            for (int v : c) {
                if (v > 0) {
                    n++;
                }
            }
            int[] b = new int[n];
            n = 0;
            for (int i = 0; i < c.length; i++) {
                if (c[i] > 0) {
                    b[n++] = i;
                }
            }
            buckets[l] = b;
        }
    }

    @Override
    public int getSeriesCount() {
        return buckets.length;
    }

    @Override
    public Comparable<String> getSeriesKey(int series) {
        return names[series];
    }

    @Override
    public int getItemCount(int series) {
        return buckets[series].length;
    }

    @Override
    public Number getX(int series, int item) {
        return Double.valueOf(getXValue(series, item));
    }

    @Override
    public double getXValue(int series, int item) {
        int b = buckets[series][item];
        double mid = timeline.fromNs() + (b + 0.5) * timeline.bucketWidthNs();
        return (mid - originNs) / 1e9;
    }

    @Override
    public Number getY(int series, int item) {
        return Double.valueOf(series);
    }

    @Override
    public double getYValue(int series, int item) {
        return series;
    }

    @Override
    public Number getZ(int series, int item) {
        return Integer.valueOf(count(series, item));
    }

    @Override
    public double getZValue(int series, int item) {
        return count(series, item);
    }

    /** Hits in the point's bucket. */
    int count(int series, int item) {
        return timeline.counts()[series][buckets[series][item]];
    }

    /** Store index of the first hit of the point's bucket. */
    long firstHit(int series, int item) {
        return timeline.firstHit()[series][buckets[series][item]];
    }
}
