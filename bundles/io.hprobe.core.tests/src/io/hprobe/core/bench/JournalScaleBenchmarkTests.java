package io.hprobe.core.bench;

import static io.hprobe.core.Checks.nn;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

import org.eclipse.jdt.annotation.NonNullByDefault;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;

import io.hprobe.core.journal.Journals;
import io.hprobe.core.journal.Outcome;
import io.hprobe.core.journal.ProgressSink;
import io.hprobe.core.model.HProbeModel;
import io.hprobe.core.model.HitStore;
import io.hprobe.core.model.Vm;

/**
 * A benchmark, not a test: opens each journal named in {@code hprobe.bench.journals} (comma-separated
 * {@code PATH=HITS}) the way File > Open Journal does (the whole file read into a hit store of the default
 * capacity) and prints a "BENCH journal-open" line per journal: seconds and the heap in use afterwards.
 * Excluded from the tests like {@link BenchmarkTests}; native/bench/journal_bench.py runs it with
 * {@code -Dhprobe.bench=true -Dtest=JournalScaleBenchmarkTests}.
 */
@NonNullByDefault({})
@EnabledIfSystemProperty(named = "hprobe.bench.journals", matches = ".+")
@Timeout(value = 3600, unit = TimeUnit.SECONDS)
class JournalScaleBenchmarkTests {

    @Test
    void openJournalsOfEachSize() {
        for (String item : System.getProperty("hprobe.bench.journals").split(",")) {
            int eq = item.lastIndexOf('=');
            Path journal = Path.of(item.substring(0, eq));
            long hits = Long.parseLong(item.substring(eq + 1));
            long t0 = System.nanoTime();
            Outcome<Vm> o = Journals.load(new HProbeModel(), journal, HitStore.DEFAULT_CAPACITY, ProgressSink.NONE);
            double sec = (System.nanoTime() - t0) / 1e9;
            assertTrue(o.isOk(), o.message());
            HitStore store = nn(o.value()).hits();
            assertEquals(hits, store.size(), "every hit read");
            // the store drops whole chunks of 65,536 hits: it keeps up to one chunk more than its capacity
            long want = Math.min(hits, store.capacity());
            assertTrue(store.count() >= want && store.count() < want + 65_536, "the newest kept: " + store.count());
            System.gc();
            Runtime rt = Runtime.getRuntime();
            double heapMb = (rt.totalMemory() - rt.freeMemory()) / 1e6;
            System.out.printf("BENCH journal-open %s hits=%d s=%.3f heap_mb=%.1f kept=%d%n", journal, hits, sec, heapMb,
                    store.count());
        }
    }
}
