package io.hprobe.core.model;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicBoolean;

import org.eclipse.jdt.annotation.NonNullByDefault;
import org.eclipse.jdt.annotation.Nullable;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import io.hprobe.core.protocol.FakeAgent;
import io.hprobe.core.protocol.Poll;

/**
 * A local agent the workbench starts is started again when it vanishes (a crash, kill -9), and left down
 * when it announced its shutdown (AGENT_SHUTDOWN). The launcher runs a script that records each start and
 * waits until a fake agent listens on the socket, which this test opens as soon as it sees the start.
 */
@NonNullByDefault({})
@Timeout(60)
class AgentRestartTest {

    private static final Duration T = Duration.ofSeconds(20);

    @TempDir
    Path dir;
    private Path starts;
    private volatile @Nullable FakeAgent fake;
    private final AtomicBoolean done = new AtomicBoolean();
    private Thread watcher;
    private HProbeModel model;
    private Agent agent;

    @BeforeEach
    void start() throws Exception {
        starts = dir.resolve("starts");
        Path script = dir.resolve("fake-hprobed");
        // argv: --daemon --socket S: returns once S listens, as hprobed --daemon does
        Files.writeString(script,
                "#!/bin/sh\necho start >> '" + starts + "'\n" + "while [ ! -S \"$3\" ]; do sleep 0.02; done\n");
        Files.setPosixFilePermissions(script, PosixFilePermissions.fromString("rwx------"));
        watcher = new Thread(this::serveEachStart, "fake hprobed starter");
        watcher.setDaemon(true);
        watcher.start();
        model = new HProbeModel();
        agent = new Agent(model, dir.resolve("fake.sock"), new AgentLauncher(script, null), HitStore.DEFAULT_CAPACITY);
        model.addAgent(agent);
    }

    @AfterEach
    void stop() throws Exception {
        done.set(true);
        model.dispose();
        FakeAgent f = fake;
        if (f != null) {
            f.close();
        }
        watcher.join(5000);
    }

    /** Opens a fake agent on the socket each time the script records a start. */
    private void serveEachStart() {
        int served = 0;
        while (!done.get()) {
            try {
                if (startCount() > served) {
                    served++;
                    fake = new FakeAgent(dir);
                }
                Thread.sleep(10);
            } catch (IOException | InterruptedException e) {
                return;
            }
        }
    }

    private int startCount() throws IOException {
        return Files.exists(starts) ? Files.readAllLines(starts).size() : 0;
    }

    /** The agent dies: its socket goes with it, as with a crashed hprobed. */
    private void crash() throws IOException {
        FakeAgent f = fake;
        if (f != null) {
            f.close();
        }
    }

    @Test
    void anAgentThatVanishesIsStartedAgain() throws Exception {
        agent.connect();
        assertEquals(1, startCount(), "nothing listened: the launcher started it");
        crash();
        Poll.until("a second start and a new connection", T, () -> {
            try {
                return startCount() == 2 && agent.state() == Agent.State.CONNECTED;
            } catch (IOException e) {
                return false;
            }
        });
    }

    @Test
    void anAgentThatAnnouncedItsShutdownIsLeftDown() throws Exception {
        agent.connect();
        FakeAgent f = fake;
        if (f == null) {
            throw new AssertionError("no fake agent after the start");
        }
        f.push("{\"event\":\"AGENT_SHUTDOWN\",\"data\":{\"reason\":\"agent-shutdown\"}}");
        Thread.sleep(200); // the event is read before the socket closes, as from hprobed
        crash();
        Poll.until("the session to see the agent gone", T, () -> agent.state() == Agent.State.DISCONNECTED);
        // reconnects come after 1 s, then 2 s: two tries pass without a start
        Thread.sleep(3500);
        assertEquals(1, startCount(), "shut down on purpose: not started again");
        assertEquals(Agent.State.DISCONNECTED, agent.state());
        // the user asks for it again: then it is started
        agent.connect();
        assertEquals(2, startCount());
        assertEquals(Agent.State.CONNECTED, agent.state());
    }
}
