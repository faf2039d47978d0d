package io.hprobe.core;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.function.Function;
import java.util.function.IntSupplier;
import java.util.function.Predicate;

import org.eclipse.jdt.annotation.Nullable;

import io.hprobe.core.internal.Posix;

/** Facts about the local hprobed agent that every client (workbench, CLI scripts) must agree on. */
public final class HProbeCore {

    /** Directory name under the runtime directory that holds the agent socket. */
    public static final String SOCKET_DIR_NAME = "hprobe";

    /** File name of the agent's Unix domain socket. */
    public static final String SOCKET_FILE_NAME = "hprobed.sock";

    /** System-wide socket directory, used when the agent runs as a service. */
    public static final Path SYSTEM_SOCKET_DIR = Path.of("/run/hprobe");

    private HProbeCore() {
    }

    /**
     * Where the agent listens by default, in the agent's own order:
     * <ol>
     * <li>{@code $XDG_RUNTIME_DIR/hprobe/hprobed.sock} if XDG_RUNTIME_DIR is set to an absolute path
     * (the XDG spec says to ignore a relative one);</li>
     * <li>{@code /run/hprobe/hprobed.sock} if /run/hprobe is a directory this user can write;</li>
     * <li>{@code /tmp/hprobe-$UID/hprobed.sock}.</li>
     * </ol>
     * Nothing is created: the agent owns the directory and its 0700 mode.
     */
    public static Path defaultAgentSocket() {
        return defaultAgentSocket(System::getenv, HProbeCore::isWritableDirectory, Posix::uid);
    }

    /** {@link #defaultAgentSocket()} with its inputs given, so that each branch can be tested. */
    static Path defaultAgentSocket(Function<String, @Nullable String> getenv, Predicate<Path> writableDirectory,
            IntSupplier uid) {
        String runtimeDir = getenv.apply("XDG_RUNTIME_DIR");
        if (runtimeDir != null && !runtimeDir.isEmpty() && Path.of(runtimeDir).isAbsolute()) {
            return Path.of(runtimeDir, SOCKET_DIR_NAME, SOCKET_FILE_NAME);
        }
        if (writableDirectory.test(SYSTEM_SOCKET_DIR)) {
            return SYSTEM_SOCKET_DIR.resolve(SOCKET_FILE_NAME);
        }
        return Path.of("/tmp", SOCKET_DIR_NAME + "-" + uid.getAsInt(), SOCKET_FILE_NAME);
    }

    private static boolean isWritableDirectory(Path dir) {
        return Files.isDirectory(dir) && Files.isWritable(dir);
    }
}
