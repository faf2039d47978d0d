package io.hprobe.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.IntSupplier;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import io.hprobe.core.internal.Posix;

/** The socket path order must match the agent's, branch by branch. */
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class HProbeCoreTest {

    private static final IntSupplier UID_1234 = () -> 1234;

    private static Path resolve(Map<String, String> env, boolean runHprobeWritable) {
        return HProbeCore.defaultAgentSocket(env::get,
                dir -> runHprobeWritable && dir.equals(HProbeCore.SYSTEM_SOCKET_DIR), UID_1234);
    }

    @Test
    void xdgRuntimeDirComesFirst() {
        assertEquals(Path.of("/run/user/1000/hprobe/hprobed.sock"),
                resolve(Map.of("XDG_RUNTIME_DIR", "/run/user/1000"), true));
    }

    @Test
    void emptyOrRelativeXdgRuntimeDirIsIgnored() {
        assertEquals(Path.of("/run/hprobe/hprobed.sock"), resolve(Map.of("XDG_RUNTIME_DIR", ""), true));
        assertEquals(Path.of("/run/hprobe/hprobed.sock"), resolve(Map.of("XDG_RUNTIME_DIR", "run/user/1000"), true));
    }

    @Test
    void systemDirWhenWritable() {
        assertEquals(Path.of("/run/hprobe/hprobed.sock"), resolve(Map.of(), true));
    }

    @Test
    void tmpPerUserAsLastResort() {
        assertEquals(Path.of("/tmp/hprobe-1234/hprobed.sock"), resolve(Map.of(), false));
    }

    @Test
    void realEnvironmentGivesAnAbsoluteSocketPath() {
        Path socket = HProbeCore.defaultAgentSocket();
        assertTrue(socket.isAbsolute(), socket.toString());
        assertEquals(HProbeCore.SOCKET_FILE_NAME, String.valueOf(socket.getFileName()));
        String xdg = System.getenv("XDG_RUNTIME_DIR");
        if (xdg != null && xdg.startsWith("/")) {
            assertEquals(Path.of(xdg, "hprobe", "hprobed.sock"), socket);
        }
    }

    @Test
    void uidMatchesIdCommand() throws IOException, InterruptedException {
        Process id = new ProcessBuilder("id", "-u").redirectErrorStream(true).start();
        String out;
        try (InputStream in = id.getInputStream()) {
            out = new String(in.readAllBytes(), StandardCharsets.US_ASCII).trim();
        }
        assertTrue(id.waitFor(10, TimeUnit.SECONDS), "id -u did not finish");
        assertEquals(Integer.parseInt(out), Posix.uid());
    }
}
