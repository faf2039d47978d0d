package io.hprobe.core.timeline;

import org.eclipse.jdt.annotation.NonNullByDefault;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import io.hprobe.core.model.Hit;
import io.hprobe.core.model.HitStore;

/** Percentiles by nearest rank, power-of-two buckets, the scatter's thinning, what is left out. */
@NonNullByDefault({})
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class LatenciesTest {

    private static final long[] NONE = new long[0];

    /** Probe 1's returns at t = 0, 10, ..., 990 ns taking 1000, 2000, ..., 100000 ns; probe 2's entries between. */
    static HitStore store() {
        HitStore s = new HitStore();
        for (int i = 0; i < 100; i++) {
            s.append(2L * i, 1, 0, i * 10L, 7, 7, "a", 0, false, false, NONE, 0, -i, (i + 1) * 1000L);
            s.append(2L * i + 1, 2, 0, i * 10L + 5, 7, 7, "a", 0, false, false, NONE, 0);
        }
        return s;
    }

    @Test
    void theStoreKeepsReturnValuesAndLatencies() {
        HitStore s = store();
        assertEquals(1000, s.latency(0));
        assertEquals(-3, s.retval(6));
        assertEquals(HitStore.NO_LATENCY, s.latency(1));
        Hit h = s.get(4);
        assertEquals(3000, h.latencyNs());
        assertEquals(-2, h.retval());
        assertEquals(true, h.isReturn());
        assertEquals(false, s.get(5).isReturn());
    }

    @Test
    void percentilesBucketsAndExtremes() {
        Latencies l = Latencies.of(store(), 1, 0, 1000, 1000);
        assertEquals(100, l.count());
        assertEquals(1000, l.min());
        assertEquals(100000, l.max());
        // nearest rank: the 50th of 100 values, the 90th, the 99th
        assertEquals(50000, l.p50());
        assertEquals(90000, l.p90());
        assertEquals(99000, l.p99());
        // [512, 1024): 1000; [1024, 2048): 2000 is not in it ... [65536, 131072): 66000..100000
        assertEquals(1, l.buckets()[9]);
        assertEquals(1, l.buckets()[10]);
        assertEquals(35, l.buckets()[16]);
        assertEquals(100, java.util.Arrays.stream(l.buckets()).sum());
        assertEquals(9, l.firstBucket());
        assertEquals(16, l.lastBucket());
        assertEquals(100, l.points().length, "a column per call: every one is a point");
    }

    @Test
    void aRangeAndAnotherProbe() {
        Latencies l = Latencies.of(store(), 1, 500, 600, 100);
        assertEquals(10, l.count());
        assertEquals(51000, l.min());
        assertEquals(60000, l.max());
        assertSame(Latencies.NONE, Latencies.of(store(), 3, 0, 1000, 100));
        // probe 2 has hits but no returns
        assertSame(Latencies.NONE, Latencies.of(store(), 2, 0, 1000, 100));
    }

    @Test
    void theScatterKeepsEachColumnsFastestAndSlowest() {
        // two columns of 50 calls each: 4 points, the extremes of each half, in time order
        Latencies l = Latencies.of(store(), 1, 0, 1000, 2);
        assertArrayEquals(new long[]{ 0, 98, 100, 198 }, l.points());
        // no more than two calls a column: every one
        assertEquals(100, Latencies.of(store(), 1, 0, 1000, 50).points().length);
        // more: thinned to two a column at most
        assertTrue(Latencies.of(store(), 1, 0, 1000, 49).points().length <= 2 * 49);
        assertEquals(0, Latencies.bucket(0));
        assertEquals(0, Latencies.bucket(1));
        assertEquals(62, Latencies.bucket(Long.MAX_VALUE));
    }
}
