package io.hprobe.core.journal;

import static io.hprobe.core.Checks.nn;
import org.eclipse.jdt.annotation.NonNullByDefault;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import io.hprobe.core.model.HProbeModel;
import io.hprobe.core.model.Hit;
import io.hprobe.core.model.HitStore;
import io.hprobe.core.model.Vm;

/**
 * The JNA binding against the real libhprobe.so (-Dhprobe.libhprobe, default native/target/cmake/lib):
 * journals written and read back through the library, offline loading, and the four exporters.
 * Skipped, saying why, when the library is not built.
 */
@NonNullByDefault({})
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class JournalsTest {

    static final long BASE = 5_000_000_000L;

    @TempDir
    Path dir;

    @BeforeAll
    static void library() {
        assumeTrue(Journals.isAvailable(),
                "libhprobe not available, JNA tests skipped: " + Journals.unavailableReason());
    }

    /** 1000 hits: probe 1 by pid 10 "sysloop" (odd seq), probe 2 by pid 20 "sh"; a probe record and an alert. */
    Path journal() throws Exception {
        Path p = dir.resolve("j.hpj");
        try (JournalWriter w = JournalWriter.create(p, "lab", BASE)) {
            w.json(2, BASE, "{\"event\":\"PROBE\",\"data\":{\"id\":1,\"spec\":\"kernel:__x64_sys_getpid\","
                    + "\"addr\":\"0xffffffff81abe350\",\"enabled\":true,\"kind\":\"capture\",\"change\":\"added\"}}");
            w.json(2, BASE, "{\"event\":\"PROBE\",\"data\":{\"id\":2,\"spec\":\"kernel:__x64_sys_write\","
                    + "\"enabled\":true,\"change\":\"added\"}}");
            // the agent names an IP before its first hit; a guest's name may hold controls
            w.json(3, BASE, "{\"event\":\"IP_NAME\",\"data\":{\"ip\":\"0xffffffff81abe350\","
                    + "\"name\":\"__x64_sys_getpid\"}}");
            w.json(3, BASE, "{\"event\":\"IP_NAME\",\"data\":{\"ip\":\"0xffffffff81000010\","
                    + "\"name\":\"odd\\u0007name\"}}");
            w.json(3, BASE, "{\"event\":\"IP_NAME\",\"data\":{\"ip\":\"12\",\"name\":\"decimal\"}}");
            for (int i = 0; i < 1000; i++) {
                boolean one = i % 2 == 0;
                w.hit(BASE + 1_000_000L * (i + 1), one ? 1 : 2, i % 2, one ? 10 : 20, one ? 10 : 20,
                        one ? "sysloop" : "sh", 0xffffffff81abe350L, false, -1L, i);
            }
            w.json(4, BASE + 500_000_000L,
                    "{\"event\":\"ALERT\",\"data\":{\"detector\":3,\"kind\":\"loop\","
                            + "\"alert\":\"stuck\",\"pid\":10,\"comm\":\"sysloop\",\"time_ns\":" + (BASE + 500_000_000L)
                            + "}}");
        }
        return p;
    }

    @Test
    void metaAndVersion() throws Exception {
        Path j = journal();
        JournalMeta m = Journals.meta(j);
        assertEquals("lab", m.vmName());
        assertEquals(BASE, m.monoBaseNs());
        assertEquals("6.1.0-test", m.kernel());
        assertFalse(Journals.libraryVersion().isEmpty());
    }

    @Test
    void offlineLoadFillsTheVm() throws Exception {
        Path j = journal();
        AtomicLong lastDone = new AtomicLong();
        Outcome<Vm> o = Journals.load(new HProbeModel(), j, HitStore.DEFAULT_CAPACITY, new ProgressSink() {

            @Override
            public void progress(long done, long total) {
                lastDone.set(done);
            }

            @Override
            public boolean isCancelled() {
                return false;
            }
        });
        assertTrue(o.isOk(), o.message());
        Vm vm = nn(o.value());
        assertNotNull(vm);
        assertFalse(vm.isLive());
        assertEquals("lab", vm.name());
        assertEquals(1000, vm.hits().count());
        assertEquals(BASE, vm.timeOriginNs());
        Hit h = vm.hits().get(0);
        assertEquals(5, h.seq()); // after the two probe records and three IP_NAME events
        assertEquals("sysloop", h.comm());
        assertEquals(-1L, h.args()[0]); // 2^64-1 round trip
        assertEquals(0xffffffff81abe350L, h.ip());
        assertEquals("__x64_sys_getpid", vm.addressName(h.ip()), "named as the journal names it");
        assertEquals("odd\ufffdname", vm.addressName(0xffffffff81000010L));
        assertNull(vm.addressName(12));
        assertEquals(2, vm.probes().size());
        assertEquals(500, nn(vm.probe(1)).hits());
        assertEquals("__x64_sys_getpid", nn(vm.probe(1)).label());
        assertEquals(1, vm.alerts().size());
        assertEquals("stuck", vm.alerts().get(0).what());
        assertEquals(Files.size(j), lastDone.get());
    }

    @Test
    void returnHitsKeepTheirValueAndLatencyOffline() throws Exception {
        Path j = dir.resolve("ret.hpj");
        try (JournalWriter w = JournalWriter.create(j, "lab", BASE)) {
            w.hit(BASE + 1, 1, 0, 10, 10, "cat", 0xffffffff81000000L, false, 3);
            w.returnHit(BASE + 2, 2, 1, 10, 10, "cat", 0xffffffff81000010L, -2, 12_345);
            w.returnHit(BASE + 3, 2, 1, 10, 10, "cat", 0xffffffff81000010L, 7, -1L); // damaged: 2^64-1 ns
        }
        Outcome<Vm> o = Journals.load(new HProbeModel(), j, HitStore.DEFAULT_CAPACITY, ProgressSink.NONE);
        assertTrue(o.isOk(), o.message());
        HitStore s = nn(o.value()).hits();
        assertEquals(3, s.count());
        assertEquals(HitStore.NO_LATENCY, s.latency(0));
        assertEquals(12_345, s.latency(1));
        assertEquals(-2, s.retval(1));
        assertEquals(Long.MAX_VALUE, s.latency(2));
        assertEquals(7, s.get(2).retval());
    }

    @Test
    void aMissingJournalFailsWithTheLibrarysMessage() {
        Outcome<Vm> o = Journals.load(new HProbeModel(), dir.resolve("none.hpj"), 1000, ProgressSink.NONE);
        assertEquals(Outcome.Status.FAILED, o.status());
        assertTrue(o.message().contains("none.hpj"), o.message());
    }

    @Test
    void csvExportWithFilters() throws Exception {
        Path j = journal();
        Path out = dir.resolve("out.csv");
        Outcome<ExportStats> o = Journals.export(new ExportRequest(j, ExportFormat.CSV, out, Set.of(1), Set.of(), 0, 0),
                ProgressSink.NONE);
        assertTrue(o.isOk(), o.message());
        assertEquals(500, nn(o.value()).hitsWritten());
        List<String> lines = Files.readAllLines(out, StandardCharsets.UTF_8);
        assertTrue(lines.size() >= 501, "header + 500 rows, got " + lines.size());
        assertTrue(lines.get(1).contains("sysloop"), lines.get(1));
        int ipName = List.of(lines.get(0).split(",")).indexOf("ip_name");
        assertEquals("__x64_sys_getpid", lines.get(1).split(",")[ipName], lines.get(0) + "\n" + lines.get(1));

        Outcome<ExportStats> byPid = Journals.export(
                new ExportRequest(j, ExportFormat.JSONL, dir.resolve("o.jsonl"), Set.of(), Set.of(20), 0, 0),
                ProgressSink.NONE);
        assertEquals(500, nn(byPid.value()).hitsWritten());
        // time is relative to the journal start: hits at 1..1000 ms; keep [100 ms, 200 ms]
        Outcome<ExportStats> byTime = Journals.export(new ExportRequest(j, ExportFormat.CHROME, dir.resolve("o.json"),
                Set.of(), Set.of(), 100_000_000L, 200_000_000L), ProgressSink.NONE);
        assertTrue(nn(byTime.value()).hitsWritten() >= 100 && nn(byTime.value()).hitsWritten() <= 101,
                "hits in [100, 200] ms: " + nn(byTime.value()).hitsWritten());
    }

    @Test
    void ctfExportReadsInBabeltrace2() throws Exception {
        Path j = journal();
        Path out = dir.resolve("ctf");
        Outcome<ExportStats> o = Journals.export(ExportRequest.all(j, ExportFormat.CTF, out), ProgressSink.NONE);
        assertTrue(o.isOk(), o.message());
        assertEquals(1000, nn(o.value()).hitsWritten());
        assertTrue(Files.isRegularFile(out.resolve("metadata")));
        Path bt = Path.of("/usr/bin/babeltrace2");
        assumeTrue(Files.isExecutable(bt), "babeltrace2 not installed: CTF not read back");
        Process p = new ProcessBuilder(bt.toString(), out.toString()).redirectErrorStream(true).start();
        String text = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(60, TimeUnit.SECONDS));
        assertEquals(0, p.exitValue(), text.length() > 2000 ? text.substring(0, 2000) : text);
        // a hit event: "[time] (delta) SPEC: { cpu_id = N }, { fields }", a class per probe
        String hit = "^\\[[^\\]]+\\] \\([^)]*\\) .+: \\{ cpu_id = [01] \\}, .*";
        assertEquals(1000, text.lines().filter(l -> l.matches(hit)).count(), "babeltrace2's hit events");
        assertEquals(500, text.lines().filter(l -> l.contains(": { cpu_id = 1 }, { seq = ")).count(), "vCPU 1's");
    }

    @Test
    void cancelledExportLeavesNothing() throws Exception {
        Path j = journal();
        Path out = dir.resolve("cancelled.csv");
        Outcome<ExportStats> o = Journals.export(ExportRequest.all(j, ExportFormat.CSV, out), new ProgressSink() {

            @Override
            public void progress(long done, long total) {
                // cancelled at the first report
            }

            @Override
            public boolean isCancelled() {
                return true;
            }
        });
        assertEquals(Outcome.Status.CANCELLED, o.status(), o.message());
        assertFalse(Files.exists(out));
    }
}
