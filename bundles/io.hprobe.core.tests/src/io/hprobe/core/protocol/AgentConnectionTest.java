package io.hprobe.core.protocol;

import static io.hprobe.core.Checks.nn;
import org.eclipse.jdt.annotation.NonNullByDefault;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;

/** The socket client against a fake agent: ids, errors, events, out-of-order replies, disconnects. */
@NonNullByDefault({})
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class AgentConnectionTest {

    @TempDir
    Path dir;
    FakeAgent agent;
    final List<AgentEvent> events = new CopyOnWriteArrayList<>();
    final AtomicInteger closes = new AtomicInteger();

    @BeforeEach
    void start() throws Exception {
        agent = new FakeAgent(dir);
    }

    @AfterEach
    void stop() throws Exception {
        agent.close();
    }

    private AgentConnection open() throws AgentException {
        return AgentConnection.open(agent.socket(), events::add, why -> closes.incrementAndGet());
    }

    @Test
    void greetingIsReadAndCommandsGetTheirReplies() throws Exception {
        agent.on("agent-info", (a, c) -> JsonParser.parseString("{\"version\":\"0.1.0\",\"vms\":0}"));
        try (AgentConnection c = open()) {
            assertEquals(1, c.greeting().get("protocol").getAsInt());
            JsonElement r = c.call("agent-info", null).get(5, TimeUnit.SECONDS);
            assertEquals("0.1.0", r.getAsJsonObject().get("version").getAsString());
        }
    }

    @Test
    void argumentsAreSentAndErrorsCarryClassAndDesc() throws Exception {
        agent.on("probe-add", (a, c) -> {
            throw new FakeAgent.Fail("UnknownSymbol", "no symbol " + a.get("spec").getAsString());
        });
        try (AgentConnection c = open()) {
            JsonObject args = new JsonObject();
            args.addProperty("vm", "lab");
            args.addProperty("spec", "kernel:nope");
            CompletableFuture<JsonElement> f = c.call("probe-add", args);
            CompletionException ex = assertThrows(CompletionException.class, f::join);
            AgentException ae = nn(AgentException.unwrap(ex));
            assertNotNull(ae);
            assertEquals("UnknownSymbol", ae.errorClass());
            assertEquals("no symbol kernel:nope", ae.desc());
            assertEquals("lab", agent.received("probe-add").get(0).get("vm").getAsString());
        }
    }

    @Test
    void repliesMayComeOutOfOrder() throws Exception {
        CompletableFuture<Void> release = new CompletableFuture<>();
        agent.on("vm-launch", (a, c) -> {
            release.join(); // a long launch: its reply comes after the next command's
            return JsonParser.parseString("{\"name\":\"lab\"}");
        });
        try (AgentConnection c = open()) {
            CompletableFuture<JsonElement> slow = c.call("vm-launch", null);
            CompletableFuture<JsonElement> fast = c.call("vm-list", null);
            assertTrue(fast.get(5, TimeUnit.SECONDS).isJsonArray());
            assertFalse(slow.isDone());
            release.complete(null);
            assertEquals("lab", slow.get(5, TimeUnit.SECONDS).getAsJsonObject().get("name").getAsString());
            assertTrue(fast.get(5, TimeUnit.SECONDS).isJsonArray());
        }
    }

    @Test
    void eventsReachTheListenerInOrder() throws Exception {
        try (AgentConnection c = open()) {
            c.call("events-subscribe", null).get(5, TimeUnit.SECONDS);
            for (int i = 0; i < 100; i++) {
                agent.push("{\"event\":\"VM_STATE\",\"vm\":\"lab\",\"data\":{\"state\":\"s" + i
                        + "\"},\"timestamp\":{\"seconds\":2,\"microseconds\":5}}");
            }
            Poll.until("100 events", Duration.ofSeconds(10), () -> events.size() == 100);
            for (int i = 0; i < 100; i++) {
                assertEquals("s" + i, events.get(i).data().get("state").getAsString());
            }
            assertEquals("lab", events.get(0).vm());
            assertEquals(2_000_005L, events.get(0).timeMicros());
        }
    }

    @Test
    void disconnectFailsPendingCallsAndRunsTheCloseHandlerOnce() throws Exception {
        agent.on("vm-launch", (a, c) -> null); // never answers
        AgentConnection c = open();
        CompletableFuture<JsonElement> f = c.call("vm-launch", null);
        Poll.until("the command to arrive", Duration.ofSeconds(5), () -> !agent.received("vm-launch").isEmpty());
        agent.dropClients();
        AgentException ae = nn(AgentException.unwrap(assertThrows(CompletionException.class, f::join)));
        assertNotNull(ae);
        assertEquals(AgentException.DISCONNECTED, ae.errorClass());
        Poll.until("the close handler", Duration.ofSeconds(5), () -> closes.get() == 1);
        assertFalse(c.isOpen());
        AgentException after = nn(
                AgentException.unwrap(assertThrows(CompletionException.class, () -> c.call("vm-list", null).join())));
        assertEquals(AgentException.DISCONNECTED, after.errorClass());
        c.close();
        assertEquals(1, closes.get());
    }

    @Test
    void aSilentAgentTimesOut() throws Exception {
        agent.on("vm-ps", (a, c) -> null);
        try (AgentConnection c = open()) {
            CompletableFuture<JsonElement> f = c.call("vm-ps", null, 200, TimeUnit.MILLISECONDS);
            AgentException ae = nn(AgentException.unwrap(assertThrows(CompletionException.class, f::join)));
            assertEquals(AgentException.NO_REPLY, ae.errorClass());
        }
    }

    @Test
    void anotherProtocolIsRefused() throws Exception {
        agent.setProtocol(2);
        AgentException e = assertThrows(AgentException.class, this::open);
        assertEquals(AgentException.PROTOCOL, e.errorClass());
    }

    @Test
    void nothingListeningIsDisconnected() {
        AgentException e = assertThrows(AgentException.class,
                () -> AgentConnection.open(dir.resolve("none.sock"), x -> {
                }, x -> {
                }));
        assertEquals(AgentException.DISCONNECTED, e.errorClass());
    }

    @Test
    void malformedLinesAreSkipped() throws Exception {
        try (AgentConnection c = open()) {
            agent.push("not json");
            agent.push("[1,2]");
            agent.push("{\"event\":\"ALERT\",\"vm\":\"lab\",\"data\":{}}");
            Poll.until("the valid event", Duration.ofSeconds(5), () -> events.size() == 1);
            assertTrue(c.isOpen());
        }
    }
}
