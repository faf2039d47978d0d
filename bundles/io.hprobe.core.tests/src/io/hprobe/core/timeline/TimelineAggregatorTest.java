package io.hprobe.core.timeline;

import org.eclipse.jdt.annotation.NonNullByDefault;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Arrays;
import java.util.Set;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import io.hprobe.core.model.HitStore;

/** Bucketing per probe and per process, ranges, hidden lanes, first-hit indexes. */
@NonNullByDefault({})
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class TimelineAggregatorTest {

    static HitStore store() {
        HitStore s = new HitStore();
        long[] none = new long[0];
        // probe 1 every 10 ns from 0 to 990 (pid 7); probe 2 at 500..509 (pid 8)
        for (int i = 0; i < 100; i++) {
            s.append(i, 1, 0, i * 10L, 7, 7, "a", 0, false, false, none, 0);
        }
        for (int i = 0; i < 10; i++) {
            s.append(100 + i, 2, 0, 1000 + i, 8, 8, "b", 0, false, false, none, 0);
        }
        return s;
    }

    @Test
    void bucketsPerProbe() {
        Timeline t = TimelineAggregator.aggregate(store(), 0, 1010, 101, LaneMode.PROBE, Set.of());
        assertArrayEquals(new int[]{ 1, 2 }, t.laneKeys());
        assertEquals(110, t.total());
        assertEquals(100, Arrays.stream(t.counts()[0]).sum());
        assertEquals(10, t.counts()[1][100]);
        assertEquals(100, t.firstHit()[1][100]); // the store index of the bucket's first hit
        assertEquals(101, t.cells()); // 100 single-hit cells for probe 1, one cell of 10 for probe 2
    }

    @Test
    void rangeAndHiddenLanes() {
        Timeline t = TimelineAggregator.aggregate(store(), 200, 400, 4, LaneMode.PROCESS, Set.of(8));
        assertArrayEquals(new int[]{ 7 }, t.laneKeys());
        assertEquals(20, t.total());
        assertArrayEquals(new int[]{ 5, 5, 5, 5 }, t.counts()[0]);
        assertEquals(20, t.firstHit()[0][0]);
        assertEquals(50L, t.bucketWidthNs(), 0.0);
        assertEquals(250, t.bucketStart(1));
    }

    @Test
    void emptyRange() {
        Timeline t = TimelineAggregator.aggregate(store(), 5000, 6000, 10, LaneMode.PROBE, Set.of());
        assertEquals(0, t.laneKeys().length);
        assertEquals(0, t.total());
    }
}
