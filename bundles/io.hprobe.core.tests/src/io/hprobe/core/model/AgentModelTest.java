package io.hprobe.core.model;

import static io.hprobe.core.Checks.nn;
import org.eclipse.jdt.annotation.NonNullByDefault;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;

import io.hprobe.core.protocol.AgentException;
import io.hprobe.core.protocol.FakeAgent;
import io.hprobe.core.protocol.Poll;

/** The model follows a (fake) agent: replies, pushed events, reconnect with hit resume. */
@NonNullByDefault({})
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class AgentModelTest {

    private static final Duration T = Duration.ofSeconds(10);
    private static final String LAB = "{\"name\":\"lab\",\"state\":\"running\",\"accel\":\"tcg\",\"smp\":2,"
            + "\"qemu\":\"10.0.2\",\"kernel\":\"6.1.0-56-amd64\",\"launched\":true,\"journal\":\"/j\"}";

    @TempDir
    Path dir;
    FakeAgent fake;
    HProbeModel model;
    Agent agent;
    final List<ModelChange> changes = new CopyOnWriteArrayList<>();
    final AtomicReference<String> probes = new AtomicReference<>("[]");

    @BeforeEach
    void start() throws Exception {
        fake = new FakeAgent(dir);
        fake.on("vm-list", (a, c) -> JsonParser.parseString("[" + LAB + "]"));
        fake.on("probe-list", (a, c) -> JsonParser.parseString(probes.get()));
        fake.on("hits-subscribe", (a, c) -> JsonParser.parseString("{\"next_seq\":0,\"published_seq\":0}"));
        model = new HProbeModel();
        model.addListener(changes::add);
        agent = new Agent(model, fake.socket(), null, HitStore.DEFAULT_CAPACITY);
        model.addAgent(agent);
    }

    @AfterEach
    void stop() throws Exception {
        model.dispose();
        fake.close();
    }

    private static String hits(long first, int n, int probe) {
        StringBuilder b = new StringBuilder(
                "{\"event\":\"HITS\",\"vm\":\"lab\",\"data\":{\"first_seq\":" + first + ",\"hits\":[");
        for (int i = 0; i < n; i++) {
            long seq = first + i;
            b.append(i > 0 ? "," : "").append("{\"seq\":").append(seq).append(",\"probe\":").append(probe)
                    .append(",\"vcpu\":1,\"time_ns\":").append(1_000_000 + seq * 1000)
                    .append(",\"pid\":42,\"tgid\":42,\"comm\":\"sysloop\",\"ip\":\"0xffffffff81abe350\","
                            + "\"user\":false,\"args\":[18446744073709551615," + seq + "]}");
        }
        return b.append("],\"next_seq\":").append(first + n).append("}}").toString();
    }

    @Test
    void connectLoadsVmsAndSubscribesToEventsAndHits() throws Exception {
        agent.connect();
        assertEquals(Agent.State.CONNECTED, agent.state());
        Vm vm = nn(agent.vm("lab"));
        assertNotNull(vm);
        assertEquals("tcg", vm.info().accel());
        assertEquals(2, vm.info().smp());
        assertEquals(1, fake.received("events-subscribe").size());
        Poll.until("hits-subscribe", T, () -> !fake.received("hits-subscribe").isEmpty());
        assertEquals(0, fake.received("hits-subscribe").get(0).get("from_seq").getAsLong());
        assertTrue(changes.stream().anyMatch(c -> c.kind() == ModelChange.Kind.VMS));
    }

    @Test
    void hitBatchesFillTheStoreWithUnsignedArgs() throws Exception {
        agent.connect();
        Vm vm = nn(agent.vm("lab"));
        fake.push(hits(0, 512, 1));
        fake.push(hits(512, 100, 2));
        Poll.until("612 hits", T, () -> vm.hits().count() == 612);
        Hit h = vm.hits().get(511);
        assertEquals(511, h.seq());
        assertEquals(-1L, h.args()[0]); // 2^64-1, kept bit for bit
        assertEquals("18446744073709551615", Long.toUnsignedString(h.args()[0]));
        assertEquals(511, h.args()[1]);
        assertEquals("sysloop", h.comm());
        assertEquals(0xffffffff81abe350L, h.ip());
        assertEquals(512L, vm.hits().perProbe().get(1)[0]);
        assertEquals(100L, vm.hits().perProbe().get(2)[0]);
        assertTrue(changes.stream().anyMatch(c -> c.kind() == ModelChange.Kind.HITS && c.vm() == vm));
    }

    @Test
    void reconnectResumesHitsFromTheLastSeqWithoutDuplicates() throws Exception {
        agent.connect();
        Vm vm = nn(agent.vm("lab"));
        fake.push(hits(0, 10, 1));
        Poll.until("10 hits", T, () -> vm.hits().count() == 10);
        // the first subscription is sent after the VM list, on its own: the fake pushes
        // hits without it, so wait for it or a drop can lose it in flight
        Poll.until("the first hits-subscribe", T, () -> !fake.received("hits-subscribe").isEmpty());
        fake.dropClients();
        Poll.until("the reconnection", T,
                () -> fake.received("events-subscribe").size() == 2 && agent.state() == Agent.State.CONNECTED);
        Poll.until("a resumed hits-subscribe", T, () -> fake.received("hits-subscribe").size() >= 2);
        List<JsonObject> subs = fake.received("hits-subscribe");
        assertEquals(10, subs.get(subs.size() - 1).get("from_seq").getAsLong());
        assertTrue(nn(agent.vm("lab")) == vm, "the same VM object survives a reconnect");
        // a replay that overlaps what we hold adds only the new hits
        fake.push(hits(5, 10, 1));
        Poll.until("15 hits", T, () -> vm.hits().count() == 15);
        for (long i = 0; i < 15; i++) {
            assertEquals(i, vm.hits().seq(i));
        }
    }

    private static final String GETPID = "{\"id\":2,\"spec\":\"kernel:__x64_sys_getpid\",\"addr\":\"0xffffffff81abe350\","
            + "\"function\":\"__x64_sys_getpid\",\"enabled\":true,\"hits\":7,\"kind\":\"capture\",\"state\":\"armed\","
            + "\"comm\":\"sysloop\"}";

    @Test
    void probeEventsAndListKeepTheProbes() throws Exception {
        agent.connect();
        Vm vm = nn(agent.vm("lab"));
        probes.set("[" + GETPID + "]");
        // like the agent: the PROBE event ("added", the whole probe) goes out before the reply
        fake.on("probe-add", (a, c) -> {
            try {
                fake.push("{\"event\":\"PROBE\",\"vm\":\"lab\",\"data\":"
                        + GETPID.replace("}", ",\"change\":\"added\"}") + "}");
            } catch (java.io.IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
            return JsonParser.parseString("{\"id\":2,\"addr\":\"0xffffffff81abe350\"}");
        });
        Probe p = agent.addProbe(vm, ProbeRequest.at("kernel:__x64_sys_getpid")).get(5, TimeUnit.SECONDS);
        assertEquals(2, p.id());
        assertEquals(7, p.hits());
        assertEquals("__x64_sys_getpid", p.label());
        assertEquals("comm sysloop", p.filterText());
        // the agent's list says what its event says (a refresh may follow the event and must agree)
        probes.set(probes.get().replace("\"armed\"", "\"stale\""));
        fake.push(
                "{\"event\":\"PROBE\",\"vm\":\"lab\",\"data\":{\"id\":2,\"state\":\"stale\",\"reason\":\"rebooted\"}}");
        Poll.until("stale", T, () -> "stale".equals(nn(vm.probe(2)).state()));
        assertEquals("kernel:__x64_sys_getpid", nn(vm.probe(2)).spec());
        fake.push("{\"event\":\"PROBE\",\"vm\":\"lab\",\"data\":{\"id\":2,\"change\":\"removed\"}}");
        probes.set("[]");
        Poll.until("removed", T, () -> vm.probe(2) == null);
        // its hits still name it and its parameters
        assertEquals("kernel:__x64_sys_getpid", nn(vm.probeOfHit(2)).spec());
        assertEquals("comm sysloop", nn(vm.probeOfHit(2)).filterText());
    }

    @Test
    void vmStatsReadAsTheProtocolDocumentsThem() throws Exception {
        // docs/protocol.md's example; then a VM without the in-QEMU tier ("plugin": null)
        fake.on("vm-stats",
                (a, c) -> JsonParser.parseString("{\"records\":20003,\"dropped\":0,\"plugin\":{"
                        + "\"hits\":20001,\"dropped\":0,\"filtered\":5004,\"read_errors\":0,\"task_cached\":24996,"
                        + "\"reinstrumentations\":1,\"sites\":1,\"probes\":1}}"));
        agent.connect();
        Vm vm = nn(agent.vm("lab"));
        VmStats s = agent.readStats(vm).get(5, TimeUnit.SECONDS);
        assertEquals(new VmStats.Tier(20001, 0, 5004, 0, 24996, 1, 1, 1), s.tier());
        assertEquals(20003, s.records());
        assertEquals(10, s.rows().size());
        assertEquals(new VmStats.Row("Filtered out", 5004, "hits refused by a pid, comm or --if filter"),
                s.rows().get(4));
        fake.on("vm-stats", (a, c) -> JsonParser.parseString("{\"records\":7,\"dropped\":2,\"plugin\":null}"));
        s = agent.readStats(vm).get(5, TimeUnit.SECONDS);
        assertNull(s.tier());
        assertEquals(List.of("Records journalled", "Hits dropped"), s.rows().stream().map(VmStats.Row::label).toList());
    }

    @Test
    void probesRemovedBeforeTheConnectionNameTheirHits() throws Exception {
        probes.set("[" + GETPID.replace("\"armed\"", "\"removed\"") + "]");
        agent.connect();
        Vm vm = nn(agent.vm("lab"));
        firstProbeListApplied();
        Poll.until("the removed probe kept", T, () -> vm.probeOfHit(2) != null);
        assertNull(vm.probe(2), "a removed probe is not one of the VM's probes");
        assertTrue(vm.probes().isEmpty());
        assertTrue(fake.received("probe-list").get(0).get("removed").getAsBoolean(), "asked for the removed ones");
    }

    /**
     * The connection reads probe-list after the VM list; the fake answers each command on a thread of its
     * own, so that reply could overtake a later probe-add's event and wipe the new probe (hprobed answers
     * a VM's commands in order): wait until it is in the model.
     */
    private void firstProbeListApplied() {
        Poll.until("the connection's probe-list in the model", T,
                () -> changes.stream().anyMatch(c -> c.kind() == ModelChange.Kind.PROBES));
    }

    @Test
    void addingAProbeTakesItFromTheEventWithoutReReadingTheList() throws Exception {
        agent.connect();
        Vm vm = nn(agent.vm("lab"));
        firstProbeListApplied();
        fake.on("probe-add", (a, c) -> {
            try {
                fake.push("{\"event\":\"PROBE\",\"vm\":\"lab\",\"data\":"
                        + GETPID.replace("}", ",\"change\":\"added\"}") + "}");
            } catch (java.io.IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
            return JsonParser.parseString("{\"id\":2,\"addr\":\"0xffffffff81abe350\",\"mechanism\":\"tcg-plugin\"}");
        });
        Probe p = agent.addProbe(vm, ProbeRequest.at("kernel:__x64_sys_getpid")).get(5, TimeUnit.SECONDS);
        assertEquals("__x64_sys_getpid", p.function(), "the event's probe, function included");
        assertEquals(p, vm.probe(2));
        // a PROBE event carries the probe: nothing to re-read, now or later
        Thread.sleep(800);
        assertEquals(1, fake.received("probe-list").size(), "probe-list after probe-add");
    }

    @Test
    void withoutItsEventTheProbeComesFromTheRequestAndTheReply() throws Exception {
        agent.connect();
        Vm vm = nn(agent.vm("lab"));
        firstProbeListApplied();
        fake.on("probe-add", (a, c) -> JsonParser.parseString("{\"id\":5,\"addr\":\"0xffffffff81b67770\","
                + "\"mechanism\":\"gdbstub\",\"resume\":\"emulate-nop5\",\"state\":\"armed\"}"));
        ProbeRequest r = new ProbeRequest("kernel:__x64_sys_write", 3, "arg2:s64", false, -1, "sysloop", false, true,
                null, null);
        Probe p = agent.addProbe(vm, r).get(5, TimeUnit.SECONDS);
        assertEquals(5, p.id());
        assertEquals("kernel:__x64_sys_write", p.spec());
        assertEquals(0xffffffff81b67770L, p.addr());
        assertEquals("gdbstub", p.mechanism());
        assertEquals("armed", p.state());
        assertEquals(3, p.args());
        assertEquals("arg2:s64", p.mem());
        assertEquals("comm sysloop", p.filterText());
        assertEquals(p, vm.probe(5), "the model holds it too");
        // the event that comes later completes it
        fake.push("{\"event\":\"PROBE\",\"vm\":\"lab\",\"data\":{\"id\":5,\"function\":\"__x64_sys_write\","
                + "\"hits\":3,\"change\":\"added\"}}");
        Poll.until("the event merged", T, () -> nn(vm.probe(5)).hits() == 3);
        assertEquals("__x64_sys_write", nn(vm.probe(5)).function());
        assertEquals("arg2:s64", nn(vm.probe(5)).mem());
    }

    @Test
    void probeRequestArguments() {
        JsonObject o = new ProbeRequest("kernel:__x64_sys_write", 3, "arg2:s64", true, 42, "sysloop", true, false,
                "count > 4", " hist(count) by comm ").toJson();
        assertEquals("{\"spec\":\"kernel:__x64_sys_write\",\"args\":3,\"mem\":\"arg2:s64\",\"regs\":true,\"pid\":42,"
                + "\"comm\":\"sysloop\",\"kind\":\"count\",\"enabled\":false,\"if\":\"count > 4\","
                + "\"agg\":\"hist(count) by comm\"}", o.toString());
        assertEquals("{\"spec\":\"0xffffffff81000000\"}", ProbeRequest.at("0xffffffff81000000").toJson().toString());
    }

    @Test
    void probeConditionIsKeptShownAndAskedAgain() {
        Probe p = Probe.fromJson(JsonParser
                .parseString("{\"id\":3,\"spec\":\"kernel:ksys_write\",\"comm\":\"sysloop\",\"if\":\"fd == 1\"}")
                .getAsJsonObject());
        assertEquals("fd == 1", p.cond());
        assertEquals("comm sysloop, if fd == 1", p.filterText());
        assertEquals("fd == 1", ProbeRequest.of(p).toJson().get("if").getAsString());
        assertNull(ProbeRequest.of(p).toJson().get("agg"));
        // an aggregating probe is asked again with its aggregation (redo after an undone removal)
        Probe a = Probe.fromJson(
                JsonParser.parseString("{\"id\":4,\"spec\":\"kernel:ksys_write\",\"agg\":\"count() by comm\"}")
                        .getAsJsonObject());
        assertEquals("count() by comm", ProbeRequest.of(a).toJson().get("agg").getAsString());
        // an event that says nothing of it keeps it
        assertEquals("fd == 1", p.merge(JsonParser.parseString("{\"hits\":4}").getAsJsonObject()).cond());
        assertEquals(null, Probe.fromJson(JsonParser.parseString("{\"id\":4}").getAsJsonObject()).cond());
    }

    @Test
    void detectorsAlertsAndStateAreGeneric() throws Exception {
        fake.on("detector-list", (a, c) -> JsonParser.parseString(
                "[{\"id\":1,\"kind\":\"watchdog\",\"config\":{\"probe\":\"app:/apps/hb:beat\",\"period_ms\":500},"
                        + "\"alerts\":0}]"));
        agent.connect();
        Vm vm = nn(agent.vm("lab"));
        Poll.until("the detector", T, () -> vm.detectors().size() == 1);
        assertEquals(500, vm.detectors().get(0).config().get("period_ms").getAsInt());
        fake.push("{\"event\":\"DETECTOR_STATE\",\"vm\":\"lab\",\"data\":{\"id\":1,\"kind\":\"watchdog\","
                + "\"processes\":[{\"pid\":7,\"age_ms\":1200}]}}");
        Poll.until("the state", T, () -> vm.detectors().get(0).state().has("processes"));
        assertTrue(!vm.detectors().get(0).state().has("id"), "id and kind are not state");
        fake.push("{\"event\":\"ALERT\",\"vm\":\"lab\",\"data\":{\"detector\":1,\"kind\":\"watchdog\","
                + "\"alert\":\"no-heartbeat\",\"pid\":7,\"comm\":\"hb\",\"time_ns\":123456}}");
        Poll.until("the alert", T, () -> vm.alerts().size() == 1);
        Alert a = vm.alerts().get(0);
        assertEquals("no-heartbeat", a.what());
        assertEquals(7, a.pid());
        assertEquals(123456, a.timeNs());
    }

    @Test
    void processListAcceptsTheTasksObject() throws Exception {
        fake.on("vm-ps",
                (a, c) -> JsonParser.parseString("{\"tasks\":[{\"pid\":1,\"tgid\":1,\"ppid\":0,\"comm\":\"init\","
                        + "\"state\":\"S\",\"cr3\":\"0x1062000\",\"kernel\":false},{\"pid\":2,\"tgid\":2,\"ppid\":0,"
                        + "\"comm\":\"kthreadd\",\"state\":\"S\",\"cr3\":\"0x0\",\"kernel\":true}],\"walk_us\":3}"));
        agent.connect();
        Vm vm = nn(agent.vm("lab"));
        List<GuestProcess> ps = agent.refreshProcesses(vm).get(5, TimeUnit.SECONDS);
        assertEquals(2, ps.size());
        assertEquals("init (1)", ps.get(0).label());
        assertEquals(0x1062000, ps.get(0).cr3());
        assertTrue(ps.get(1).kernel());
    }

    @Test
    void consoleReadsFromTheLastOffset() throws Exception {
        AtomicInteger calls = new AtomicInteger();
        fake.on("vm-console", (a, c) -> {
            int n = calls.incrementAndGet();
            JsonObject r = new JsonObject();
            r.addProperty("text", n == 1 ? "lab# " : "sysloop\r\n");
            r.addProperty("offset", n == 1 ? 5 : 14);
            return r;
        });
        agent.connect();
        Vm vm = nn(agent.vm("lab"));
        agent.console(vm, null).get(5, TimeUnit.SECONDS);
        agent.console(vm, "sysloop\n").get(5, TimeUnit.SECONDS);
        List<JsonObject> sent = fake.received("vm-console");
        assertEquals(5, sent.get(1).get("offset").getAsLong());
        assertEquals("sysloop\n", sent.get(1).get("input").getAsString());
        assertEquals("lab# sysloop\r\n", vm.consoleText());
    }

    @Test
    void vmStateEventsAndGoneVms() throws Exception {
        agent.connect();
        Vm vm = nn(agent.vm("lab"));
        fake.on("vm-list", (a, c) -> new JsonArray());
        fake.push("{\"event\":\"VM_STATE\",\"vm\":\"lab\",\"data\":{\"state\":\"dead\",\"reason\":\"QEMU exited\"}}");
        Poll.until("gone", T, () -> vm.isGone());
        assertEquals("dead", vm.info().state());
        assertEquals("QEMU exited", vm.info().reason());
        assertTrue(agent.vms().isEmpty());
    }

    @Test
    void commandErrorsReachTheCaller() throws Exception {
        fake.on("vm-launch", (a, c) -> {
            throw new FakeAgent.Fail("IoError", "lab.sh not found");
        });
        agent.connect();
        Exception e = assertThrows(Exception.class,
                () -> agent.launchLab(LaunchOptions.defaults()).get(5, TimeUnit.SECONDS));
        AgentException ae = nn(AgentException.unwrap(e));
        assertEquals("IoError", ae.errorClass());
    }

    @Test
    void symbolTablesLargerThanOneSearchAreSplitByPrefix() throws Exception {
        // 250 names; the fake caps each answer at 100 and reports the total, like sym-search's limit
        fake.on("sym-search", (a, c) -> {
            String pat = a.get("pattern").getAsString();
            String prefix = pat.substring(0, pat.length() - 1);
            JsonArray syms = new JsonArray();
            int total = 0;
            for (int i = 0; i < 250; i++) {
                String name = (i % 2 == 0 ? "a" : "b") + "_sym" + i;
                if (name.startsWith(prefix)) {
                    total++;
                    if (syms.size() < 100) {
                        JsonObject s = new JsonObject();
                        s.addProperty("name", name);
                        s.addProperty("addr", "0x" + Integer.toHexString(0x1000 + i));
                        s.addProperty("type", "T");
                        s.addProperty("size", 16);
                        syms.add(s);
                    }
                }
            }
            JsonObject r = new JsonObject();
            r.addProperty("total", total);
            r.add("symbols", syms);
            return r;
        });
        agent.connect();
        Vm vm = nn(agent.vm("lab"));
        var index = agent.loadSymbols(vm, null).get(20, TimeUnit.SECONDS);
        assertEquals(250, index.size());
        assertEquals(0x1000 + 7, nn(index.find("b_sym7")).addr());
    }
}
