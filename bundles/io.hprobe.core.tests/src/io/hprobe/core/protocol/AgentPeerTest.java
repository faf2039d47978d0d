package io.hprobe.core.protocol;

import static io.hprobe.core.Checks.nn;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.concurrent.TimeUnit;

import org.eclipse.jdt.annotation.NonNullByDefault;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import io.hprobe.core.internal.Posix;
import io.hprobe.core.internal.UnixSocket;

/**
 * The workbench talks only to an agent of its own user or root's, as the CLI does: the kernel says who
 * listens on the socket (SO_PEERCRED) before a byte of the greeting is read.
 */
@NonNullByDefault({})
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class AgentPeerTest {

    private static final Path SOCK = Path.of("/run/hprobe/hprobed.sock");

    @Test
    void ourOwnUserAndRootAreTrustedAnyoneElseIsNot() {
        assertNull(AgentConnection.refusal(SOCK, new UnixSocket.Peer(42, 1000, 1000), 1000));
        assertNull(AgentConnection.refusal(SOCK, new UnixSocket.Peer(42, 0, 0), 1000), "root's agent");
        assertNull(AgentConnection.refusal(SOCK, new UnixSocket.Peer(42, 0, 0), 0));
        String why = nn(AgentConnection.refusal(SOCK, new UnixSocket.Peer(4242, 65534, 65534), 1000));
        assertTrue(why.contains("uid 65534") && why.contains("pid 4242") && why.contains("uid 1000"), why);
        // root's workbench refuses an unprivileged agent: it must not be able to steer root
        assertTrue(AgentConnection.refusal(SOCK, new UnixSocket.Peer(4242, 1000, 1000), 0) != null);
    }

    @Test
    void theKernelNamesTheListenerOfOurOwnSockets() throws Exception {
        try (FakeAgent fake = new FakeAgent(Files.createTempDirectory("hprobe-peer"));
                UnixSocket s = UnixSocket.connect(fake.socket(), 4096)) {
            UnixSocket.Peer p = s.peer();
            assertEquals(Posix.euid(), p.uid());
            assertEquals(ProcessHandle.current().pid(), p.pid());
        }
    }

    /** A real listener of another user: needs root (to run it as nobody), runuser and a system python3. */
    @Test
    void anAgentOfAnotherUserIsRefused() throws Exception {
        Path python = Path.of("/usr/bin/python3");
        Path runuser = Path.of("/usr/sbin/runuser");
        assumeTrue(Posix.euid() == 0, "not root: cannot run a listener as another user");
        assumeTrue(Files.isExecutable(python) && Files.isExecutable(runuser), "no /usr/bin/python3 or runuser");
        Path dir = Files.createTempDirectory("hprobe-peer");
        Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxrwxrwx"));
        Path sock = dir.resolve("other.sock");
        // it greets like hprobed: the refusal must come from who it is, not from what it says
        String script = "import socket, sys, time\n" //
                + "s = socket.socket(socket.AF_UNIX)\n" //
                + "s.bind(sys.argv[1])\n" //
                + "s.listen(1)\n" //
                + "print('ready', flush=True)\n" //
                + "c, _ = s.accept()\n" //
                + "c.sendall(b'{\"hprobe\":{\"version\":\"0.1.0\",\"protocol\":1,\"pid\":1,\"capabilities\":[]}}\\n')\n"
                + "time.sleep(30)\n";
        Process p = new ProcessBuilder(
                List.of(runuser.toString(), "-u", "nobody", "--", python.toString(), "-c", script, sock.toString()))
                .redirectErrorStream(true).start();
        try {
            BufferedReader out = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
            String line = out.readLine();
            assumeTrue("ready".equals(line), "the listener did not start as nobody: " + line);
            int nobody = (Integer) Files.getAttribute(sock, "unix:uid");
            AgentException e = assertThrows(AgentException.class,
                    () -> AgentConnection.open(sock, AgentPeerTest::ignore, AgentPeerTest::ignore));
            assertEquals(AgentException.UNTRUSTED, e.errorClass());
            assertTrue(e.desc().contains("runs as uid " + nobody), e.desc());
            assertTrue(e.desc().contains(sock.toString()), e.desc());
        } finally {
            p.descendants().forEach(ProcessHandle::destroyForcibly); // runuser's python
            p.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
            Files.deleteIfExists(sock);
            Files.deleteIfExists(dir);
        }
    }

    private static void ignore(Object what) {
        // no events or close reasons are expected: the connection is refused before it starts
    }
}
