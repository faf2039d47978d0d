package io.hprobe.core.model;

import java.io.File;
import java.io.IOException;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import org.eclipse.jdt.annotation.Nullable;

import com.google.gson.JsonElement;

import io.hprobe.core.protocol.AgentException;

/**
 * An agent on another host, reached over SSH as {@code ssh://[user@]host[:port][/remote/socket]}: a local
 * socket in a private directory forwarded by {@code ssh -N -L local:remote} to the remote agent's socket
 * (the agent never listens on TCP). Without a path, the remote default is asked of the remote agent
 * ({@code hprobed --print-socket}). Authentication is ssh's own (keys, agent, ~/.ssh/config); no password
 * is ever asked (BatchMode). Files the remote agent names (its journals) are copied with {@link #fetch}.
 */
public final class SshTunnel {

    public static final String SCHEME = "ssh"; //$NON-NLS-1$
    private static final long OPEN_TIMEOUT_S = 30;

    private final String target;
    private final String destination;
    private final int port;
    private @Nullable String remoteSocket;
    private final List<String> sshCommand;
    private final Path dir;
    private final Path localSocket;
    private @Nullable Process process;

    private SshTunnel(String target, String destination, int port, @Nullable String remoteSocket,
            List<String> sshCommand, Path dir) {
        this.target = target;
        this.destination = destination;
        this.port = port;
        this.remoteSocket = remoteSocket;
        this.sshCommand = List.copyOf(sshCommand);
        this.dir = dir;
        this.localSocket = dir.resolve("agent.sock"); //$NON-NLS-1$
    }

    /** Whether target names an agent over SSH rather than a local socket path. */
    public static boolean isSsh(String target) {
        return target.startsWith(SCHEME + "://"); //$NON-NLS-1$
    }

    /**
     * Parses target and makes the private directory of its local socket (nothing is started yet).
     *
     * @param sshCommand the ssh client and options of the user's own, e.g. [ssh] or [ssh, -F, config]
     * @throws IllegalArgumentException with a message for the user when target is not such a URL
     */
    public static SshTunnel create(String target, List<String> sshCommand) throws IOException {
        if (sshCommand.isEmpty()) {
            throw new IllegalArgumentException("no ssh command"); //$NON-NLS-1$
        }
        URI u = parse(target);
        String user = u.getUserInfo();
        String path = u.getPath() == null || u.getPath().isEmpty() || "/".equals(u.getPath()) ? null : u.getPath(); //$NON-NLS-1$
        Path dir = Files.createTempDirectory("hprobe-ssh", //$NON-NLS-1$
                PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------"))); //$NON-NLS-1$
        return new SshTunnel(u.toString(), user == null ? u.getHost() : user + "@" + u.getHost(), u.getPort(), path, //$NON-NLS-1$
                sshCommand, dir);
    }

    /**
     * Checks an ssh:// URL.
     *
     * @throws IllegalArgumentException with a message for the user when target is not such a URL
     */
    public static URI parse(String target) {
        URI u;
        try {
            u = new URI(target.trim());
        } catch (URISyntaxException e) {
            throw new IllegalArgumentException("not an ssh://[user@]host[:port][/socket] URL: " + e.getMessage()); //$NON-NLS-1$
        }
        String host = u.getHost();
        if (!SCHEME.equals(u.getScheme()) || host == null || host.startsWith("-") || u.getQuery() != null //$NON-NLS-1$
                || u.getFragment() != null) {
            throw new IllegalArgumentException("not an ssh://[user@]host[:port][/socket] URL: " + target); //$NON-NLS-1$
        }
        String user = u.getUserInfo();
        if (user != null && (user.isEmpty() || user.startsWith("-") || user.contains(":"))) { //$NON-NLS-1$ //$NON-NLS-2$
            throw new IllegalArgumentException("bad user in " + target + " (no password in the URL)"); //$NON-NLS-1$ //$NON-NLS-2$
        }
        return u;
    }

    /** The URL as given: the agent's name in the workbench. */
    public String target() {
        return target;
    }

    /** [user@]host. */
    public String destination() {
        return destination;
    }

    /** The local end of the forward, which the connection opens. */
    public Path localSocket() {
        return localSocket;
    }

    public synchronized boolean isOpen() {
        Process p = process;
        return p != null && p.isAlive();
    }

    /** Starts the forward unless it runs; returns once the local socket listens. Blocking. */
    public synchronized void open() throws AgentException {
        if (isOpen()) {
            return;
        }
        String remote = remoteSocket;
        if (remote == null) {
            remote = run(List.of("hprobed", "--print-socket")).trim(); //$NON-NLS-1$ //$NON-NLS-2$
            if (!remote.startsWith("/") || remote.contains("\n")) { //$NON-NLS-1$ //$NON-NLS-2$
                throw fail("the remote hprobed did not say its socket: give it as " + target + "/path/to/hprobed.sock", //$NON-NLS-1$ //$NON-NLS-2$
                        null);
            }
            remoteSocket = remote;
        }
        Path log = dir.resolve("ssh.log"); //$NON-NLS-1$
        List<String> cmd = command();
        cmd.addAll(List.of("-N", "-o", "ExitOnForwardFailure=yes", "-o", "StreamLocalBindUnlink=yes", "-L", //$NON-NLS-1$ //$NON-NLS-2$ //$NON-NLS-3$ //$NON-NLS-4$ //$NON-NLS-5$ //$NON-NLS-6$
                localSocket + ":" + remote, "--", destination)); //$NON-NLS-1$ //$NON-NLS-2$
        try {
            Files.deleteIfExists(localSocket);
            Process p = new ProcessBuilder(cmd).redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null"))) //$NON-NLS-1$
                    .redirectErrorStream(true).redirectOutput(log.toFile()).start();
            process = p;
            long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(OPEN_TIMEOUT_S);
            while (!Files.exists(localSocket)) {
                if (p.waitFor(20, TimeUnit.MILLISECONDS)) {
                    throw fail("ssh to " + destination + " exited with " + p.exitValue(), log); //$NON-NLS-1$ //$NON-NLS-2$
                }
                if (System.nanoTime() > end) {
                    close();
                    throw fail("ssh to " + destination + " did not forward the socket within " + OPEN_TIMEOUT_S //$NON-NLS-1$ //$NON-NLS-2$
                            + " s", log); //$NON-NLS-1$
                }
            }
        } catch (IOException e) {
            throw new AgentException(AgentException.DISCONNECTED, "cannot run " + cmd.get(0) + ": " + e.getMessage(), //$NON-NLS-1$//$NON-NLS-2$
                    e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            close();
            throw new AgentException(AgentException.NO_REPLY, "interrupted while connecting to " + destination, e); //$NON-NLS-1$
        }
    }

    /** Stops the forward and removes the local socket; open() may start it again. */
    public synchronized void close() {
        Process p = process;
        process = null;
        if (p != null) {
            p.destroy();
            try {
                if (!p.waitFor(5, TimeUnit.SECONDS)) {
                    p.destroyForcibly();
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        try {
            Files.deleteIfExists(localSocket);
        } catch (IOException e) {
            // a left socket file is harmless: the next open unlinks it
        }
    }

    /** close(), and the private directory removed for good. */
    public synchronized void dispose() {
        close();
        try (Stream<Path> s = Files.walk(dir)) {
            for (Path p : s.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        } catch (IOException e) {
            // in the temp directory: the system cleans it
        }
    }

    private List<String> command() {
        List<String> cmd = new ArrayList<>(sshCommand);
        cmd.addAll(List.of("-o", "BatchMode=yes")); //$NON-NLS-1$ //$NON-NLS-2$
        if (port > 0) {
            cmd.addAll(List.of("-p", Integer.toString(port))); //$NON-NLS-1$
        }
        return cmd;
    }

    /**
     * Runs a remote command, each word quoted for the remote shell; its output goes to out, or is returned
     * when out is null.
     */
    private String run(List<String> words) throws AgentException {
        List<String> cmd = command();
        cmd.addAll(List.of("--", destination)); //$NON-NLS-1$
        StringBuilder remote = new StringBuilder();
        for (String w : words) {
            remote.append(remote.length() == 0 ? "" : " ").append('\'').append(w.replace("'", "'\\''")).append('\''); //$NON-NLS-1$ //$NON-NLS-2$ //$NON-NLS-3$ //$NON-NLS-4$
        }
        cmd.add(remote.toString());
        Path log = dir.resolve("ssh-run.log"); //$NON-NLS-1$
        try {
            Path o = dir.resolve("ssh-run.out"); //$NON-NLS-1$
            Process p = new ProcessBuilder(cmd).redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null"))) //$NON-NLS-1$
                    .redirectError(log.toFile()).redirectOutput(o.toFile()).start();
            if (!p.waitFor(10 * OPEN_TIMEOUT_S, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw fail("ssh " + destination + " " + words.get(0) + " took too long", log); //$NON-NLS-1$ //$NON-NLS-2$ //$NON-NLS-3$
            }
            if (p.exitValue() != 0) {
                throw fail("ssh " + destination + " " + words.get(0) + " exited with " + p.exitValue(), log); //$NON-NLS-1$ //$NON-NLS-2$ //$NON-NLS-3$
            }
            return Files.readString(o, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new AgentException(AgentException.DISCONNECTED, "cannot run " + cmd.get(0) + ": " + e.getMessage(), //$NON-NLS-1$//$NON-NLS-2$
                    e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AgentException(AgentException.NO_REPLY, "interrupted: ssh " + destination, e); //$NON-NLS-1$
        }
    }

    /** A DISCONNECTED failure quoting the last lines ssh wrote. */
    private static AgentException fail(String what, @Nullable Path log) {
        String said = log == null ? "" : AgentLauncher.tail(log, 0, 1000); //$NON-NLS-1$
        return new AgentException(AgentException.DISCONNECTED, said.isEmpty() ? what : what + ": " + said,
                (JsonElement) null);
    }

    @Override
    public String toString() {
        return target;
    }
}
