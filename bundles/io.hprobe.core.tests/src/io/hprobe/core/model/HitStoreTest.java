package io.hprobe.core.model;

import org.eclipse.jdt.annotation.NonNullByDefault;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Set;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** Columns, chunks, eviction, bisection and filtering of the hit store. */
@NonNullByDefault({})
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class HitStoreTest {

    static void fill(HitStore s, long n) {
        long[] args = { 1, 2, 3 };
        for (long i = 0; i < n; i++) {
            args[0] = i;
            s.append(i * 2, (int) (i % 3) + 1, (int) (i % 2), 1000 + i * 10, 100 + (int) (i % 5), 100 + (int) (i % 5),
                    "p" + (i % 5), 0xffffffff81000000L + i, i % 2 == 0, false, args, (int) (i % 4));
        }
    }

    @Test
    void rowsReadBackAcrossChunks() {
        HitStore s = new HitStore();
        fill(s, HitStore.CHUNK * 2 + 10);
        assertEquals(HitStore.CHUNK * 2 + 10, s.size());
        long i = HitStore.CHUNK + 3;
        Hit h = s.get(i);
        assertEquals(i * 2, h.seq());
        assertEquals((int) (i % 3) + 1, h.probe());
        assertEquals(1000 + i * 10, h.timeNs());
        assertEquals("p" + (i % 5), h.comm());
        assertEquals((int) (i % 4), h.args().length);
        if (h.args().length > 0) {
            assertEquals(i, h.args()[0]);
        }
        assertEquals(i % 2 == 0, h.user());
        assertTrue(s.isTimeSorted());
        assertEquals(2 * s.size() - 2, s.lastSeq());
    }

    @Test
    void capacityEvictsTheOldestChunk() {
        HitStore s = new HitStore(HitStore.CHUNK * 2);
        fill(s, HitStore.CHUNK * 3 + 1);
        assertEquals(HitStore.CHUNK * 3 + 1, s.size());
        assertTrue(s.count() <= HitStore.CHUNK * 2 + 1);
        assertEquals(s.size() - s.count(), s.first());
        assertThrows(IndexOutOfBoundsException.class, () -> s.get(0));
        assertEquals(s.first() * 2, s.get(s.first()).seq());
        // totals per probe still count every hit ever seen
        long total = s.perProbe().values().stream().mapToLong(v -> v[0]).sum();
        assertEquals(s.size(), total);
    }

    @Test
    void bisectByTimeAndSeq() {
        HitStore s = new HitStore();
        fill(s, 1000);
        assertEquals(0, s.lowerBound(0));
        assertEquals(50, s.lowerBound(1500));
        assertEquals(51, s.lowerBound(1501));
        assertEquals(1000, s.lowerBound(1_000_000));
        assertEquals(123, s.indexOfSeq(246));
        assertEquals(-1, s.indexOfSeq(247));
    }

    @Test
    void timeGoingBackwardsDisablesBisection() {
        HitStore s = new HitStore();
        s.append(0, 1, 0, 100, 1, 1, "a", 0, false, false, new long[0], 0);
        s.append(1, 1, 0, 50, 1, 1, "a", 0, false, false, new long[0], 0);
        assertFalse(s.isTimeSorted());
        assertEquals(0, s.lowerBound(60));
    }

    @Test
    void filterSelectsByProbeProcessAndTime() {
        HitStore s = new HitStore();
        fill(s, 3000);
        HitFilter f = new HitFilter(Set.of(1), Set.of(100), 1000 + 300 * 10, 1000 + 2000 * 10);
        long[] sel = f.select(s, 0, s.size(), () -> false);
        assertNotNull(sel);
        for (long i : sel) {
            assertEquals(1, s.probe(i));
            assertEquals(100, s.pid(i));
            assertTrue(s.time(i) >= 4000 && s.time(i) <= 21000);
        }
        // i % 3 == 0 and i % 5 == 0 -> i % 15 == 0, for i in [300, 2000]
        assertEquals((2000 - 300) / 15 + 1, sel.length);
        assertArrayEquals(new long[0], HitFilter.ALL.select(new HitStore(), 0, 0, () -> false));
        assertEquals(null, HitFilter.ALL.select(s, 0, s.size(), () -> true));
    }

    @Test
    void filterByCommandNameMatchesProcessesSeenAfterIt() {
        // made before any hit, as a view restored at start makes it: the name is matched per hit
        HitFilter byName = new HitFilter(Set.of(), Set.of(), "P2", Long.MIN_VALUE, Long.MAX_VALUE);
        assertFalse(byName.isAll());
        HitStore s = new HitStore();
        fill(s, 3000);
        long[] sel = byName.select(s, 0, s.size(), () -> false);
        assertNotNull(sel);
        assertEquals(600, sel.length);
        for (long i : sel) {
            assertEquals(102, s.pid(i));
        }
        // a pid or a name: either passes
        HitFilter either = new HitFilter(Set.of(), Set.of(100), "p2", Long.MIN_VALUE, Long.MAX_VALUE);
        long[] both = either.select(s, 0, s.size(), () -> false);
        assertNotNull(both);
        assertEquals(1200, both.length);
        long[] none = new HitFilter(Set.of(), Set.of(), "nosuch", Long.MIN_VALUE, Long.MAX_VALUE).select(s, 0, s.size(),
                () -> false);
        assertNotNull(none);
        assertEquals(0, none.length);
    }
}
