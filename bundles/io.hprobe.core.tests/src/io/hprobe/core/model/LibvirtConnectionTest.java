package io.hprobe.core.model;

import static io.hprobe.core.Checks.nn;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

import org.eclipse.jdt.annotation.NonNullByDefault;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;

import io.hprobe.core.protocol.AgentException;
import io.hprobe.core.protocol.FakeAgent;
import io.hprobe.core.protocol.Poll;

/**
 * An agent's libvirt connection against a (fake) agent: the domains listed on connect, a listing's failure
 * in the agent's words, an attach that gives a VM with its source and shows the domain attached, a
 * failed attach, a change of URI, a detach. The replies are those of docs/protocol.md.
 */
@NonNullByDefault({})
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class LibvirtConnectionTest {

    private static final Duration T = Duration.ofSeconds(10);
    private static final String UUID = "5f7b573a-f41e-4ddd-b475-b3dd71aea776";
    private static final String WEB_VM = "{\"name\":\"web\",\"state\":\"running\",\"accel\":\"tcg\",\"smp\":2,"
            + "\"kernel\":\"6.1.0-56-amd64\",\"launched\":false,\"source\":{\"kind\":\"libvirt\","
            + "\"uri\":\"qemu:///system\",\"domain\":\"web\",\"uuid\":\"" + UUID + "\",\"pid\":29665}}";

    @TempDir
    Path dir;
    FakeAgent fake;
    HProbeModel model;
    Agent agent;
    /** What vm-list answers. */
    final AtomicReference<String> vms = new AtomicReference<>("[]");
    /** The VM web is attached as, or null: libvirt-list's "attached". */
    final AtomicReference<String> attachedAs = new AtomicReference<>();

    @BeforeEach
    void start() throws Exception {
        fake = new FakeAgent(dir);
        fake.on("vm-list", (a, c) -> JsonParser.parseString(vms.get()));
        fake.on("hits-subscribe", (a, c) -> JsonParser.parseString("{\"next_seq\":0,\"published_seq\":0}"));
        fake.on("libvirt-list", (a, c) -> listing(a));
        model = new HProbeModel();
        agent = new Agent(model, fake.socket(), null, HitStore.DEFAULT_CAPACITY);
        model.addAgent(agent);
    }

    @AfterEach
    void stop() throws Exception {
        model.dispose();
        fake.close();
    }

    /** libvirt-list as the agent answers it: web running, db shut off. */
    private JsonElement listing(JsonObject args) {
        String uri = args.has("connect") ? args.get("connect").getAsString() : "qemu:///system";
        String att = attachedAs.get();
        return JsonParser.parseString("{\"uri\":\"" + uri + "\",\"domains\":[" //
                + "{\"name\":\"web\",\"uuid\":\"" + UUID + "\",\"state\":\"running\",\"id\":1,\"running\":true,"
                + "\"attached\":" + (att == null ? "null" : "\"" + att + "\"") + "}," //
                + "{\"name\":\"db\",\"uuid\":\"0c5e3b5e-2a51-4a8e-9d4c-1f0e6f7f1a2b\",\"state\":\"shut off\","
                + "\"id\":-1,\"running\":false,\"attached\":null}]}");
    }

    private LibvirtConnection listed() {
        LibvirtConnection c = agent.libvirt();
        Poll.until("the domains listed", T, () -> c.state() == LibvirtConnection.State.LISTED);
        return c;
    }

    @Test
    void connectingListsTheDomainsOfTheSystemConnection() throws Exception {
        assertEquals(LibvirtConnection.State.NOT_LISTED, agent.libvirt().state());
        agent.connect();
        LibvirtConnection c = listed();
        assertEquals(LibvirtConnection.DEFAULT_URI, c.uri());
        assertEquals("qemu:///system", fake.received("libvirt-list").get(0).get("connect").getAsString());
        List<LibvirtDomain> ds = c.domains();
        assertEquals(2, ds.size());
        LibvirtDomain web = nn(c.domain("web"));
        assertEquals(new LibvirtDomain("web", UUID, "running", 1, true, null), web);
        assertTrue(web.canAttach());
        LibvirtDomain db = nn(c.domain("db"));
        assertEquals("shut off", db.state());
        assertEquals(-1, db.id());
        assertFalse(db.canAttach(), "a domain that does not run cannot be attached");
        assertNull(c.error());
    }

    @Test
    void aListingThatFailsKeepsTheAgentsWordsAndTheConnectionUp() throws Exception {
        String why = "cannot connect to libvirt (qemu:///system): Failed to connect socket to "
                + "'/var/run/libvirt/libvirt-sock': No such file or directory";
        fake.on("libvirt-list", (a, c) -> {
            throw new FakeAgent.Fail("IoError", why);
        });
        agent.connect();
        LibvirtConnection c = agent.libvirt();
        Poll.until("the listing failed", T, () -> c.state() == LibvirtConnection.State.FAILED);
        assertEquals(why, c.error());
        assertEquals("IoError", c.errorClass());
        assertTrue(c.domains().isEmpty());
        assertEquals(Agent.State.CONNECTED, agent.state(), "libvirt's absence is no agent failure");
        // libvirtd started meanwhile: a refresh lists
        fake.on("libvirt-list", (a, x) -> listing(a));
        assertEquals(2, c.refresh().get(5, TimeUnit.SECONDS).size());
        assertEquals(LibvirtConnection.State.LISTED, c.state());
        assertNull(c.error());
    }

    @Test
    void attachingGivesTheVmWithItsSourceAndShowsTheDomainAttached() throws Exception {
        agent.connect();
        LibvirtConnection c = listed();
        LibvirtDomain web = nn(c.domain("web"));
        CountDownLatch reply = new CountDownLatch(1);
        fake.on("vm-attach", (a, x) -> {
            try {
                assertTrue(reply.await(10, TimeUnit.SECONDS));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            vms.set("[" + WEB_VM + "]");
            attachedAs.set("web");
            return JsonParser.parseString(WEB_VM);
        });
        CompletableFuture<Vm> f = c.attach(web, true);
        Poll.until("the attach sent", T, () -> !fake.received("vm-attach").isEmpty());
        assertTrue(c.isAttaching(web), "the domain shows the attach under way");
        reply.countDown();
        Vm vm = f.get(10, TimeUnit.SECONDS);
        assertFalse(c.isAttaching(web));
        JsonObject sent = fake.received("vm-attach").get(0);
        assertEquals("web", sent.get("libvirt").getAsString(), "by its name: the VM takes it");
        assertEquals("qemu:///system", sent.get("connect").getAsString());
        assertFalse(sent.has("name"), "the VM takes the domain's own name");
        assertFalse(sent.has("plugin"), "the in-QEMU tier when QEMU has it: the agent's default");
        assertEquals(vm, agent.vm("web"));
        VmSource s = vm.info().source();
        assertTrue(s.isLibvirt());
        assertEquals(new VmSource("libvirt", "qemu:///system", "web", UUID, null, 29665), s);
        assertTrue(s.isDomain(c.uri(), web));
        assertFalse(s.isDomain(c.uri(), nn(c.domain("db"))));
        // the future completes once the domains were listed again: web shows attached, at once
        LibvirtDomain now = nn(c.domain("web"));
        assertEquals("web", now.attached());
        assertFalse(now.canAttach());
        assertEquals(vm, c.vmOf(now));
    }

    @Test
    void aFailedAttachSaysWhatTheAgentSaid() throws Exception {
        agent.connect();
        LibvirtConnection c = listed();
        String why = "libvirt domain 'web' is not running (virsh start web)";
        fake.on("vm-attach", (a, x) -> {
            throw new FakeAgent.Fail("InvalidArgument", why);
        });
        Exception e = assertThrows(Exception.class,
                () -> c.attach(nn(c.domain("web")), false).get(5, TimeUnit.SECONDS));
        assertFalse(fake.received("vm-attach").get(0).get("plugin").getAsBoolean(), "without the in-QEMU tier");
        AgentException ae = nn(AgentException.unwrap(e));
        assertEquals("InvalidArgument", ae.errorClass());
        assertEquals(why, ae.desc());
        assertFalse(c.isAttaching(nn(c.domain("web"))));
        assertTrue(agent.vms().isEmpty());
    }

    @Test
    void anotherUriDropsTheDomainsAndAnOlderReplyNeverComesBack() throws Exception {
        agent.connect();
        LibvirtConnection c = listed();
        CountDownLatch release = new CountDownLatch(1);
        fake.on("libvirt-list", (a, x) -> {
            if ("qemu:///system".equals(a.get("connect").getAsString())) {
                try {
                    assertTrue(release.await(10, TimeUnit.SECONDS)); // a slow libvirtd
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                return listing(a);
            }
            return JsonParser.parseString("{\"uri\":\"qemu:///session\",\"domains\":[]}");
        });
        CompletableFuture<List<LibvirtDomain>> slow = c.refresh();
        Poll.until("listing", T, () -> c.state() == LibvirtConnection.State.LISTING);
        c.setUri("qemu:///session");
        assertEquals(LibvirtConnection.State.NOT_LISTED, c.state());
        assertTrue(c.domains().isEmpty(), "no domains of another connection");
        assertTrue(c.refresh().get(5, TimeUnit.SECONDS).isEmpty());
        assertEquals(LibvirtConnection.State.LISTED, c.state());
        release.countDown();
        assertEquals(2, slow.get(5, TimeUnit.SECONDS).size(), "its caller still gets its answer");
        assertTrue(c.domains().isEmpty(), "the old connection's late reply is not the node's");
        assertEquals("qemu:///session", c.uri());
        c.setUri(" ");
        assertEquals(LibvirtConnection.DEFAULT_URI, c.uri(), "blank is the default");
    }

    @Test
    void detachingALibvirtVmListsTheDomainsAgain() throws Exception {
        vms.set("[" + WEB_VM + "]");
        attachedAs.set("web");
        agent.connect();
        LibvirtConnection c = listed();
        Vm vm = nn(agent.vm("web"));
        assertEquals("web", nn(c.domain("web")).attached());
        fake.on("vm-detach", (a, x) -> {
            vms.set("[]");
            attachedAs.set(null);
            return new JsonObject();
        });
        int before = fake.received("libvirt-list").size();
        agent.detach(vm).get(5, TimeUnit.SECONDS);
        assertEquals(before + 1, fake.received("libvirt-list").size());
        assertNull(nn(c.domain("web")).attached());
        assertTrue(nn(c.domain("web")).canAttach());
        assertTrue(vm.isGone());
    }

    @Test
    void everyKindOfSourceIsRead() throws Exception {
        vms.set("[{\"name\":\"lab\",\"state\":\"running\",\"source\":{\"kind\":\"lab\",\"pid\":41}},"
                + "{\"name\":\"prod\",\"state\":\"running\",\"source\":{\"kind\":\"qmp\",\"path\":\"/run/q.sock\"}},"
                + "{\"name\":\"old\",\"state\":\"running\"}]");
        agent.connect();
        assertEquals(new VmSource("lab", null, null, null, null, 41), nn(agent.vm("lab")).info().source());
        VmSource qmp = nn(agent.vm("prod")).info().source();
        assertEquals(VmSource.QMP, qmp.kind());
        assertEquals("/run/q.sock", qmp.path());
        assertEquals(0, qmp.pid(), "no pid known");
        assertEquals(VmSource.UNKNOWN, nn(agent.vm("old")).info().source(), "an agent that says nothing");
        // a state event keeps where the VM comes from; the agent says paused from then on, as a real one
        // would (a vm-list the connect still has in flight must not read running after the event)
        vms.set("[{\"name\":\"lab\",\"state\":\"running\",\"source\":{\"kind\":\"lab\",\"pid\":41}},"
                + "{\"name\":\"prod\",\"state\":\"paused\",\"source\":{\"kind\":\"qmp\",\"path\":\"/run/q.sock\"}},"
                + "{\"name\":\"old\",\"state\":\"running\"}]");
        fake.push("{\"event\":\"VM_STATE\",\"vm\":\"prod\",\"data\":{\"state\":\"paused\"}}");
        Poll.until("paused", T, () -> nn(agent.vm("prod")).info().isPaused());
        assertEquals(qmp, nn(agent.vm("prod")).info().source());
    }
}
