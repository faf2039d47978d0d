package io.hprobe.core.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeFalse;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.TimeUnit;

import org.eclipse.jdt.annotation.NonNullByDefault;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;

import io.hprobe.core.journal.ProgressSink;
import io.hprobe.core.protocol.AgentException;
import io.hprobe.core.protocol.FakeAgent;
import io.hprobe.core.protocol.Poll;

/**
 * An agent on "another host" over SSH: a real OpenSSH sshd on the loopback address
 * (releng/scripts/tests/loopback-sshd.sh: its own host key and authorized key, as this user), the real ssh
 * client, and an agent on the sshd side of the forward. Each test checks what goes through the forward (the greeting, the VM list, a copied file).
 */
@NonNullByDefault({})
@Timeout(120)
class SshTunnelTest {

    private static final Duration T = Duration.ofSeconds(30);
    private static final String LAB = "{\"name\":\"lab\",\"state\":\"running\",\"accel\":\"tcg\","
            + "\"qemu\":\"10.0.2\",\"kernel\":\"6.1.0-56-amd64\",\"launched\":true,\"journal\":\"/j\"}";

    @TempDir
    Path dir;
    private Process sshd;
    private int port;
    private FakeAgent fake;
    private HProbeModel model;
    private List<String> ssh;

    @BeforeEach
    void start() throws Exception {
        Path remoteBin = Files.createDirectories(dir.resolve("remote-bin"));
        Path remote = Files.createDirectories(dir.resolve("remote"));
        fake = new FakeAgent(remote);
        fake.on("vm-list", (a, c) -> JsonParser.parseString("[" + LAB + "]"));
        fake.on("hits-subscribe", (a, c) -> JsonParser.parseString("{\"next_seq\":0,\"published_seq\":0}"));
        // the "remote" hprobed answers --print-socket as the real one does
        Path hprobed = remoteBin.resolve("hprobed");
        Files.writeString(hprobed, "#!/bin/sh\n[ \"$1\" = --print-socket ] && echo '" + fake.socket() + "'\n");
        Files.setPosixFilePermissions(hprobed, PosixFilePermissions.fromString("rwx------"));
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            port = s.getLocalPort();
        }
        Path sshdDir = Files.createDirectories(dir.resolve("sshd"));
        sshd = new ProcessBuilder(System.getProperty("hprobe.sshd", "releng/scripts/tests/loopback-sshd.sh"),
                sshdDir.toString(), Integer.toString(port), remoteBin.toString()).redirectErrorStream(true)
                .redirectOutput(dir.resolve("sshd.log").toFile()).start();
        Poll.until("sshd listening on 127.0.0.1:" + port, T, this::listening);
        ssh = List.of("ssh", "-F", sshdDir.resolve("ssh_config").toString());
        model = new HProbeModel();
    }

    @AfterEach
    void stop() throws Exception {
        if (model != null) {
            model.dispose();
        }
        if (fake != null) {
            fake.close();
        }
        if (sshd != null) {
            sshd.destroy();
            sshd.waitFor(10, TimeUnit.SECONDS);
        }
    }

    private boolean listening() {
        if (!sshd.isAlive()) {
            assumeFalse(sshd.exitValue() == 77 && !"1".equals(System.getenv("HPROBE_NO_SKIPS")), this::log);
            fail("sshd exited with " + sshd.exitValue() + ": " + log());
        }
        try (Socket s = new Socket(InetAddress.getLoopbackAddress(), port)) {
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    private String log() {
        try {
            return Files.readString(dir.resolve("sshd.log"));
        } catch (IOException e) {
            return e.toString();
        }
    }

    private String url(String path) {
        return "ssh://" + System.getProperty("user.name") + "@127.0.0.1:" + port + path;
    }

    private Agent remote(String path) throws IOException {
        Agent a = new Agent(model, SshTunnel.create(url(path), ssh), HitStore.DEFAULT_CAPACITY);
        model.addAgent(a);
        return a;
    }

    @Test
    void connectsThroughTheForwardAndCopiesTheAgentsFiles() throws Exception {
        Agent a = remote(fake.socket().toString());
        a.connect();
        assertEquals(Agent.State.CONNECTED, a.state(), () -> a.lastError() + " / " + log());
        assertEquals(List.of("lab"), a.vms().stream().map(Vm::name).toList());
        assertEquals(1, fake.received("agent-info").size());
        assertEquals(url(fake.socket().toString()), a.target());
        assertEquals(a, model.agent(a.target()));
        Path local = a.socket();
        assertTrue(local.startsWith(Path.of(System.getProperty("java.io.tmpdir"))), local::toString);
        assertEquals("rwx------", PosixFilePermissions.toString(Files.getPosixFilePermissions(local.getParent())));

        // the VM's journal is copied through the protocol over the forward, byte for byte (JournalCopyTest
        // has the rest)
        Path journal = dir.resolve("remote").resolve("it's.hpj");
        byte[] bytes = new byte[300_000];
        for (int i = 0; i < bytes.length; i++) {
            bytes[i] = (byte) (i * 31);
        }
        Files.write(journal, bytes);
        fake.on("journal-read", (args, c) -> {
            int off = args.get("offset").getAsInt();
            int n = Math.max(0, Math.min(262_144, bytes.length - off));
            JsonObject r = new JsonObject();
            r.addProperty("offset", off);
            r.addProperty("size", bytes.length);
            r.addProperty("eof", off + n >= bytes.length);
            r.addProperty("data", java.util.HexFormat.of().formatHex(bytes, off, off + n));
            return r;
        });
        Vm lab = a.vms().get(0);
        assertFalse(JournalCopy.sharesFiles(a, journal.toString()), "a tunnel's agent is on another host");
        Path copy = JournalCopy.local(lab, Files.createDirectories(dir.resolve("local")), ProgressSink.NONE);
        assertEquals(-1L, Files.mismatch(journal, copy));
        assertEquals(List.of(0, 262_144),
                fake.received("journal-read").stream().map(r -> r.get("offset").getAsInt()).toList());

        // closed for good: the ssh process ends and its socket and private directory go
        model.removeAgent(a);
        assertFalse(Objects.requireNonNull(a.tunnel()).isOpen());
        assertFalse(Files.exists(local.getParent()));
    }

    @Test
    void asksTheRemoteAgentForItsSocketWhenTheUrlHasNone() throws Exception {
        Agent a = remote("");
        a.connect();
        assertEquals(Agent.State.CONNECTED, a.state(), () -> a.lastError() + " / " + log());
        assertEquals(1, fake.received("vm-list").size());
    }

    @Test
    void aDeadForwardIsStartedAgainByTheReconnect() throws Exception {
        Agent a = remote(fake.socket().toString());
        a.connect();
        assertEquals(Agent.State.CONNECTED, a.state());
        Objects.requireNonNull(a.tunnel()).close(); // as if the network dropped: ssh ends, the connection closes
        Poll.until("a second greeting through a new ssh", T,
                () -> fake.received("agent-info").size() == 2 && a.state() == Agent.State.CONNECTED);
        assertTrue(Objects.requireNonNull(a.tunnel()).isOpen());
    }

    @Test
    void failuresSayWhatSshSaid() throws Exception {
        sshd.destroy();
        sshd.waitFor(10, TimeUnit.SECONDS);
        Agent a = remote(fake.socket().toString());
        AgentException e = assertThrows(AgentException.class, a::connect);
        assertEquals(AgentException.DISCONNECTED, e.errorClass());
        assertTrue(e.desc().contains("Connection refused"), e::desc);
        assertEquals(Agent.State.DISCONNECTED, a.state());
    }

    @Test
    void onlySshUrlsWithAHostAndNoPasswordOrOptionAreTaken() {
        assertTrue(SshTunnel.isSsh("ssh://h"));
        assertFalse(SshTunnel.isSsh("/run/hprobe/hprobed.sock"));
        SshTunnel.parse("ssh://alice@vmhost:2222/run/hprobe/hprobed.sock");
        for (String bad : new String[]{ "ssh://", "ssh:///x.sock", "http://h/x", "ssh://-oProxyCommand=x/s",
                "ssh://-x@h", "ssh://alice:secret@h", "ssh://h/s?x=1", "ssh://h:port" }) {
            assertThrows(IllegalArgumentException.class, () -> SshTunnel.parse(bad), bad);
        }
    }
}
