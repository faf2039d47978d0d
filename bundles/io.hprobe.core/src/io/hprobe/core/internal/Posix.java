package io.hprobe.core.internal;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import org.eclipse.jdt.annotation.Nullable;

/** The few process facts Java has no portable API for. Linux only, like hprobed. */
public final class Posix {

    private Posix() {
    }

    /**
     * The real user id of this process: the owner of /proc/self. Plain NIO, so no JNA call just to
     * name a directory.
     *
     * @throws IllegalStateException if /proc is not mounted or has no unix attribute view
     */
    public static int uid() {
        Path self = Path.of("/proc/self");
        try {
            Object uid = Files.getAttribute(self, "unix:uid");
            if (uid instanceof Integer value) {
                return value.intValue();
            }
            throw new IllegalStateException("unix:uid of " + self + " is not an int: " + uid);
        } catch (IOException | UnsupportedOperationException e) {
            throw new IllegalStateException("cannot read the uid of this process from " + self, e);
        }
    }

    /** The C library's name of an errno value ("ENOENT" for 2), or null when it has none. */
    public static @Nullable String errnoName(int errnum) {
        return Libc.strerrorname_np(errnum);
    }

    /** The effective user id of this process (geteuid), the one the kernel checks and SO_PEERCRED reports. */
    public static int euid() {
        return Libc.geteuid();
    }
}
