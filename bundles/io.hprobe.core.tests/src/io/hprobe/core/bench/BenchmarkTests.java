package io.hprobe.core.bench;

import static io.hprobe.core.Checks.nn;
import org.eclipse.jdt.annotation.NonNullByDefault;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;
import org.junit.jupiter.api.io.TempDir;

import io.hprobe.core.journal.ExportFormat;
import io.hprobe.core.journal.ExportRequest;
import io.hprobe.core.journal.ExportStats;
import io.hprobe.core.journal.JournalWriter;
import io.hprobe.core.journal.Journals;
import io.hprobe.core.journal.Outcome;
import io.hprobe.core.journal.ProgressSink;
import io.hprobe.core.model.HitStore;
import io.hprobe.core.symbols.Symbol;
import io.hprobe.core.symbols.SymbolIndex;
import io.hprobe.core.timeline.LaneMode;
import io.hprobe.core.timeline.Timeline;
import io.hprobe.core.timeline.TimelineAggregator;

/**
 * Benchmarks, not tests: they print figures and check only that the work was done. Off by default; run
 * with {@code xvfb-run -a ./mvnw -B verify -DskipUiTests=true -Dhprobe.bench=true} (the whole reactor:
 * Tycho cannot build one test bundle alone) and read the "BENCH" lines of io.hprobe.core.tests.
 */
@NonNullByDefault({})
@EnabledIfSystemProperty(named = "hprobe.bench", matches = "true")
@Timeout(value = 600, unit = TimeUnit.SECONDS)
class BenchmarkTests {

    static final int HITS = 1_000_000;
    static final int SYMBOLS = 150_000;

    @TempDir
    Path dir;

    private static void report(String what, double value, String unit) {
        System.out.printf("BENCH %-55s %10.2f %s%n", what, value, unit);
    }

    /** Median of runs, in ms. */
    private static double medianMs(int runs, Runnable r) {
        double[] t = new double[runs];
        for (int i = 0; i < runs; i++) {
            long t0 = System.nanoTime();
            r.run();
            t[i] = (System.nanoTime() - t0) / 1e6;
        }
        java.util.Arrays.sort(t);
        return t[runs / 2];
    }

    static HitStore millionHits() {
        HitStore s = new HitStore(2L * HITS);
        Random rnd = new Random(1);
        long[] args = { 0, 0, 0 };
        long t = 0;
        for (int i = 0; i < HITS; i++) {
            t += 1 + rnd.nextInt(2000); // ~1 ms of hits per 1000
            int pid = 100 + rnd.nextInt(40);
            args[0] = i;
            s.append(i, 1 + rnd.nextInt(8), rnd.nextInt(4), t, pid, pid, "proc" + (pid % 40), 0xffffffff81000000L,
                    false, false, args, 3);
        }
        return s;
    }

    @Test
    void timelineAggregationOfAMillionHits() {
        HitStore s = millionHits();
        long from = s.time(s.first()), to = s.time(s.size() - 1) + 1;
        for (int i = 0; i < 5; i++) { // warm-up: JIT
            TimelineAggregator.aggregate(s, from, to, 1600, LaneMode.PROBE, Set.of());
        }
        Timeline[] last = new Timeline[1];
        double probe = medianMs(11,
                () -> last[0] = TimelineAggregator.aggregate(s, from, to, 1600, LaneMode.PROBE, Set.of()));
        assertEquals(HITS, last[0].total());
        double process = medianMs(11,
                () -> TimelineAggregator.aggregate(s, from, to, 1600, LaneMode.PROCESS, Set.of()));
        long mid = from + (to - from) / 2;
        double zoomed = medianMs(11,
                () -> TimelineAggregator.aggregate(s, mid, mid + (to - from) / 100, 1600, LaneMode.PROBE, Set.of()));
        report("timeline: aggregate 1M hits, 8 probe lanes x 1600 buckets", probe, "ms");
        report("timeline: aggregate 1M hits, 40 process lanes x 1600 buckets", process, "ms");
        report("timeline: aggregate a 1% zoom of 1M hits", zoomed, "ms");
        report("timeline: points drawn for 1M hits (probe lanes)", last[0].cells(), "points");
    }

    @Test
    void symbolSearchPerKeystroke() {
        List<Symbol> syms = new ArrayList<>(SYMBOLS);
        Random rnd = new Random(2);
        String[] parts = { "sys", "x64", "do", "get", "set", "pid", "task", "mm", "vfs", "read", "write", "lock", "irq",
                "sched", "page", "alloc", "free", "net", "sock", "tcp", "ext4", "bpf", "kvm", "cgroup" };
        for (int i = 0; i < SYMBOLS; i++) {
            StringBuilder b = new StringBuilder(rnd.nextInt(3) == 0 ? "__" : "");
            int n = 2 + rnd.nextInt(3);
            for (int k = 0; k < n; k++) {
                b.append(k > 0 ? "_" : "").append(parts[rnd.nextInt(parts.length)]);
            }
            b.append('_').append(i);
            syms.add(new Symbol(b.toString(), 0xffffffff81000000L + 16L * i, 'T', 16));
        }
        syms.add(new Symbol("__x64_sys_getpid", 0xffffffff81abe350L, 'T', 48));
        long t0 = System.nanoTime();
        SymbolIndex ix = new SymbolIndex(syms);
        double build = (System.nanoTime() - t0) / 1e6;
        String typed = "__x64_sys_getpid";
        for (int w = 0; w < 20; w++) {
            for (int k = 1; k <= typed.length(); k++) {
                ix.search(typed.substring(0, k), 500);
            }
        }
        double worst = 0, sum = 0;
        for (int k = 1; k <= typed.length(); k++) {
            String prefix = typed.substring(0, k);
            double ms = medianMs(7, () -> ix.search(prefix, 500));
            worst = Math.max(worst, ms);
            sum += ms;
        }
        assertTrue(ix.search(typed, 10).symbols().get(0).name().equals(typed));
        report("symbols: build index of " + ix.size() + " names", build, "ms");
        report("symbols: search per keystroke typing __x64_sys_getpid, mean", sum / typed.length(), "ms");
        report("symbols: search per keystroke typing __x64_sys_getpid, worst", worst, "ms");
        report("symbols: glob __x64_sys_get*", medianMs(5, () -> ix.search("__x64_sys_get*", 500)), "ms");
    }

    @Test
    void ctfExportOfAMillionHitsThroughJna() throws Exception {
        assumeTrue(Journals.isAvailable(), "libhprobe not available: " + Journals.unavailableReason());
        Path journal = dir.resolve("million.hpj");
        long base = 1_000_000_000L;
        long t0 = System.nanoTime();
        try (JournalWriter w = JournalWriter.create(journal, "bench", base)) {
            w.json(2, base, "{\"event\":\"PROBE\",\"data\":{\"id\":1,\"spec\":\"kernel:__x64_sys_getpid\"}}");
            for (int i = 0; i < HITS; i++) {
                w.hit(base + 1000L * i, 1 + (i & 3), i & 1, 100 + (i % 40), 100 + (i % 40), "sysloop",
                        0xffffffff81abe350L, false, i, 7);
            }
        }
        report("journal: write 1M hits through JNA", (System.nanoTime() - t0) / 1e9, "s");
        report("journal: size of 1M hits", Files.size(journal) / 1e6, "MB");
        for (ExportFormat f : ExportFormat.values()) {
            Path out = dir.resolve("out-" + f.id() + (f.isDirectory() ? "" : "." + f.extension()));
            long s0 = System.nanoTime();
            Outcome<ExportStats> o = Journals.export(ExportRequest.all(journal, f, out), ProgressSink.NONE);
            double sec = (System.nanoTime() - s0) / 1e9;
            assertTrue(o.isOk(), o.message());
            assertEquals(HITS, nn(o.value()).hitsWritten());
            report("export: " + f.id() + " of 1M hits through JNA", sec, "s");
        }
        long l0 = System.nanoTime();
        var loaded = Journals.load(new io.hprobe.core.model.HProbeModel(), journal, 2L * HITS, ProgressSink.NONE);
        assertTrue(loaded.isOk(), loaded.message());
        report("offline: load 1M hits into the store through JNA", (System.nanoTime() - l0) / 1e9, "s");
    }
}
