package io.hprobe.core.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

import org.eclipse.jdt.annotation.NonNullByDefault;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import com.google.gson.JsonPrimitive;

import io.hprobe.core.journal.ProgressSink;
import io.hprobe.core.protocol.AgentException;
import io.hprobe.core.protocol.FakeAgent;

/**
 * A journal the agent names, as this process can read it: the agent's own file when it shares this host's
 * files, else a copy through journal-read, which a socket forwarded by hand (it looks local) needs too: the
 * agent's boot id tells its host.
 */
@NonNullByDefault({})
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class JournalCopyTest {

    @TempDir
    Path dir;
    FakeAgent fake;
    HProbeModel model;
    Agent agent;
    Path journal;
    byte[] bytes;
    final AtomicReference<String> bootId = new AtomicReference<>();
    final AtomicInteger reads = new AtomicInteger();

    @BeforeEach
    void start() throws Exception {
        journal = Files.createDirectories(dir.resolve("agent")).resolve("it's.hpj");
        bytes = new byte[70_000];
        for (int i = 0; i < bytes.length; i++) {
            bytes[i] = (byte) (i * 31);
        }
        Files.write(journal, bytes);
        fake = new FakeAgent(dir);
        fake.on("agent-info", (a, c) -> {
            JsonObject o = new JsonObject();
            if (bootId.get() != null) {
                o.addProperty("boot_id", bootId.get());
            }
            return o;
        });
        fake.on("vm-list", (a, c) -> JsonParser.parseString("[{\"name\":\"lab\",\"state\":\"running\"," + "\"journal\":"
                + new JsonPrimitive(journal.toString()) + "}]"));
        fake.on("journal-read", (a, c) -> journalRead(a, 30_000));
        fake.on("probe-list", (a, c) -> JsonParser.parseString("[]"));
        fake.on("hits-subscribe", (a, c) -> JsonParser.parseString("{\"next_seq\":0,\"published_seq\":0}"));
        model = new HProbeModel();
        agent = new Agent(model, fake.socket(), null, HitStore.DEFAULT_CAPACITY);
        model.addAgent(agent);
    }

    /** The agent's journal-read, in pieces of at most max bytes. */
    private JsonObject journalRead(JsonObject a, int max) {
        reads.incrementAndGet();
        int off = a.get("offset").getAsInt();
        int n = Math.max(0, Math.min(max, bytes.length - off));
        JsonObject r = new JsonObject();
        r.addProperty("offset", off);
        r.addProperty("size", bytes.length);
        r.addProperty("eof", off + n >= bytes.length);
        r.addProperty("data", HexFormat.of().formatHex(bytes, Math.min(off, bytes.length), off + n));
        return r;
    }

    @AfterEach
    void stop() throws Exception {
        model.dispose();
        fake.close();
    }

    private Vm connect() throws Exception {
        agent.connect();
        assertEquals(Agent.State.CONNECTED, agent.state(), agent::lastError);
        return agent.vms().get(0);
    }

    @Test
    void theSameHostsFileIsUsedAsItIs() throws Exception {
        bootId.set(JournalCopy.ourBootId());
        Vm vm = connect();
        assertEquals(journal, JournalCopy.local(vm, dir.resolve("copies"), ProgressSink.NONE));
        assertEquals(0, reads.get(), "nothing read through the protocol");
    }

    @Test
    void anotherHostsJournalIsCopiedThroughTheProtocolWithItsProgress() throws Exception {
        // a socket forwarded by hand: no tunnel, but another boot; the same path exists here
        bootId.set("00000000-1111-2222-3333-444444444444");
        Vm vm = connect();
        assertFalse(JournalCopy.sharesFiles(agent, journal.toString()));
        Path copies = Files.createDirectories(dir.resolve("copies"));
        List<Long> seen = new java.util.concurrent.CopyOnWriteArrayList<>();
        Path copy = JournalCopy.local(vm, copies, new ProgressSink() {

            @Override
            public void progress(long done, long total) {
                assertEquals(bytes.length, total);
                seen.add(done);
            }

            @Override
            public boolean isCancelled() {
                return false;
            }
        });
        assertEquals(copies.resolve("it's.hpj"), copy);
        assertArrayEquals(bytes, Files.readAllBytes(copy));
        assertEquals(List.of(30_000L, 60_000L, 70_000L), seen);
        assertEquals(3, reads.get());
        assertEquals(List.of(copy), Files.list(copies).toList(), "no part left");
    }

    @Test
    void anUnreadablePathOnThisHostIsCopiedToo() throws Exception {
        bootId.set(JournalCopy.ourBootId()); // another mount namespace, or an agent without boot_id
        Vm vm = connect();
        Files.delete(journal);
        assertArrayEquals(bytes, Files.readAllBytes(JournalCopy.local(vm, dir, ProgressSink.NONE)));
    }

    @Test
    void aPathThatCannotBeOneHereIsCopiedUnderADefaultName() throws Exception {
        bootId.set(JournalCopy.ourBootId());
        fake.on("vm-list", (a, c) -> JsonParser
                .parseString("[{\"name\":\"lab\",\"state\":\"running\"," + "\"journal\":\"/state/j\\u0000x.hpj\"}]"));
        Vm vm = connect();
        assertFalse(JournalCopy.sharesFiles(agent, "/state/j\0x.hpj"));
        Path copy = JournalCopy.local(vm, Files.createDirectories(dir.resolve("copies")), ProgressSink.NONE);
        assertEquals(dir.resolve("copies").resolve("journal.hpj"), copy);
        assertArrayEquals(bytes, Files.readAllBytes(copy));
    }

    @Test
    void aCancelledOrFailedCopyLeavesNothing() throws Exception {
        bootId.set("another");
        Vm vm = connect();
        Path copies = Files.createDirectories(dir.resolve("copies"));
        AtomicInteger asked = new AtomicInteger();
        AgentException e = assertThrows(AgentException.class, () -> JournalCopy.local(vm, copies, new ProgressSink() {

            @Override
            public void progress(long done, long total) {
                // counted by isCancelled
            }

            @Override
            public boolean isCancelled() {
                return asked.incrementAndGet() > 1; // after the first piece
            }
        }));
        assertEquals(JournalCopy.CANCELLED, e.errorClass());
        assertEquals(List.of(), Files.list(copies).toList());
        // an agent whose data is no hex, or that answers another offset: a protocol error
        fake.on("journal-read", (a, c) -> {
            JsonObject r = journalRead(a, 10);
            r.addProperty("data", "zz");
            return r;
        });
        e = assertThrows(AgentException.class, () -> JournalCopy.local(vm, copies, ProgressSink.NONE));
        assertEquals(AgentException.PROTOCOL, e.errorClass(), e::getMessage);
        fake.on("journal-read", (a, c) -> {
            JsonObject r = journalRead(a, 10);
            r.addProperty("offset", 5);
            return r;
        });
        e = assertThrows(AgentException.class, () -> JournalCopy.local(vm, copies, ProgressSink.NONE));
        assertTrue(e.getMessage().contains("asked for offset 0, got 5"), e::getMessage);
        // the agent's own error, as it says it
        fake.on("journal-read", (a, c) -> {
            throw new FakeAgent.Fail("IoError", "journal.hpj: Permission denied");
        });
        e = assertThrows(AgentException.class, () -> JournalCopy.local(vm, copies, ProgressSink.NONE));
        assertEquals("IoError", e.errorClass());
        assertEquals(List.of(), Files.list(copies).toList());
    }
}
