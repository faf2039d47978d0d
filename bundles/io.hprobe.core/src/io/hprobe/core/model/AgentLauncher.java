package io.hprobe.core.model;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import org.eclipse.jdt.annotation.Nullable;

import com.google.gson.JsonElement;

import io.hprobe.core.protocol.AgentException;

/**
 * Starts a local hprobed on demand when nothing listens on the socket: {@code hprobed --daemon --socket S},
 * which returns once the socket listens. The agent then lives on its own (its VMs survive the workbench),
 * and logs to its state directory.
 *
 * @param binary   the hprobed executable
 * @param stateDir the agent's state directory, or null for its default
 */
public record AgentLauncher(Path binary, @Nullable Path stateDir) {

    /**
     * The agent binary to use: the explicit one if given, else $HPROBE_AGENT, else hprobed beside the
     * product (installDir/hprobed or installDir/bin/hprobed), else hprobed on PATH. Null if none exists.
     */
    public static @Nullable Path findBinary(@Nullable String explicit, @Nullable Path installDir) {
        List<Path> candidates = new ArrayList<>();
        if (explicit != null && !explicit.isBlank()) {
            candidates.add(Path.of(explicit.trim()));
        }
        String env = System.getenv("HPROBE_AGENT"); //$NON-NLS-1$
        if (env != null && !env.isBlank()) {
            candidates.add(Path.of(env));
        }
        if (installDir != null) {
            candidates.add(installDir.resolve("hprobed")); //$NON-NLS-1$
            candidates.add(installDir.resolve("bin").resolve("hprobed")); //$NON-NLS-1$ //$NON-NLS-2$
        }
        String path = System.getenv("PATH"); //$NON-NLS-1$
        if (path != null) {
            for (String dir : path.split(":")) { //$NON-NLS-1$
                if (!dir.isEmpty()) {
                    candidates.add(Path.of(dir, "hprobed")); //$NON-NLS-1$
                }
            }
        }
        for (Path p : candidates) {
            if (Files.isRegularFile(p) && Files.isExecutable(p)) {
                return p;
            }
        }
        return null;
    }

    /**
     * Starts the agent on socket and waits until it listens (the daemon's parent exits then). The daemon and
     * the guests it launches must not hold pipes to this JVM: its output goes to a file (the agent's own
     * log, or a start-up log in the temp directory), and stdin is /dev/null.
     */
    public void start(Path socket) throws AgentException {
        List<String> cmd = new ArrayList<>(List.of(binary.toString(), "--daemon", "--socket", socket.toString())); //$NON-NLS-1$ //$NON-NLS-2$
        Path dir = stateDir;
        Path log;
        try {
            if (dir != null) {
                Files.createDirectories(dir);
                cmd.add("--state-dir"); //$NON-NLS-1$
                cmd.add(dir.toString());
                log = dir.resolve("hprobed.log"); //$NON-NLS-1$
                cmd.add("--log"); //$NON-NLS-1$
                cmd.add(log.toString());
            } else {
                log = Files.createTempFile("hprobed-start", ".log"); //$NON-NLS-1$ //$NON-NLS-2$
            }
            long before = Files.exists(log) ? Files.size(log) : 0;
            Process p = new ProcessBuilder(cmd)
                    .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null"))) //$NON-NLS-1$
                    .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile())).start();
            if (!p.waitFor(30, TimeUnit.SECONDS)) {
                p.destroy();
                throw new AgentException(AgentException.NO_REPLY, binary + " did not start listening within 30 s", //$NON-NLS-1$
                        (JsonElement) null);
            }
            if (p.exitValue() != 0) {
                String out = tail(log, before, 2000);
                throw new AgentException(AgentException.DISCONNECTED,
                        binary + " exited with " + p.exitValue() + (out.isEmpty() ? "" : ": " + out), //$NON-NLS-1$//$NON-NLS-2$//$NON-NLS-3$
                        (JsonElement) null);
            }
        } catch (IOException e) {
            throw new AgentException(AgentException.DISCONNECTED, "cannot run " + binary + ": " + e.getMessage(), e); //$NON-NLS-1$ //$NON-NLS-2$
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AgentException(AgentException.NO_REPLY, "interrupted while starting " + binary, e); //$NON-NLS-1$
        }
    }

    /** What a child's log got since offset, trimmed to its last max characters ("" if unreadable). */
    static String tail(Path log, long offset, int max) {
        try {
            byte[] all = Files.readAllBytes(log);
            String s = new String(all, (int) Math.min(offset, all.length), (int) Math.max(0, all.length - offset),
                    StandardCharsets.UTF_8).trim();
            return s.length() > max ? s.substring(s.length() - max) : s;
        } catch (IOException e) {
            return ""; //$NON-NLS-1$
        }
    }
}
