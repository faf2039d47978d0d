package io.hprobe.core.internal;

import com.sun.jna.LastErrorException;
import com.sun.jna.Native;
import com.sun.jna.NativeLibrary;
import com.sun.jna.Platform;
import com.sun.jna.Pointer;
import com.sun.jna.ptr.IntByReference;

/**
 * The C library calls of {@link UnixSocket} and {@link Posix}, JNA direct mapping. The constants are
 * Linux's generic ABI (x86_64, aarch64), the platforms hprobed runs on; size_t and ssize_t are Java longs
 * there (LP64).
 */
final class Libc {

    static final int AF_UNIX = 1;
    static final int SOCK_STREAM = 1;
    static final int SOCK_CLOEXEC = 0x80000;
    static final int SOL_SOCKET = 1;
    static final int SO_PEERCRED = 17;
    /** struct ucred: pid_t pid, uid_t uid, gid_t gid. */
    static final int UCRED_SIZE = 12;
    static final int SHUT_RDWR = 2;
    static final int MSG_NOSIGNAL = 0x4000;
    /** sizeof sun_path in struct sockaddr_un. */
    static final int SUN_PATH_MAX = 108;
    static final int EINTR = 4;

    static {
        Native.register(Libc.class, NativeLibrary.getInstance(Platform.C_LIBRARY_NAME));
    }

    private Libc() {
    }

    /** Whether the constants above are this machine's. */
    static boolean abiKnown() {
        return Platform.isLinux()
                && (Platform.isIntel() && Platform.is64Bit() || Platform.isARM() && Platform.is64Bit());
    }

    static native int socket(int domain, int type, int protocol) throws LastErrorException;

    static native int connect(int fd, byte[] addr, int len) throws LastErrorException;

    static native long read(int fd, Pointer buf, long count) throws LastErrorException;

    static native long send(int fd, Pointer buf, long count, int flags) throws LastErrorException;

    static native int getsockopt(int fd, int level, int name, Pointer value, IntByReference len)
            throws LastErrorException;

    static native int shutdown(int fd, int how) throws LastErrorException;

    static native int close(int fd) throws LastErrorException;

    static native int geteuid();

    static native String strerror(int errnum);

    /** glibc 2.32+: "ENOENT" for 2, NULL for a number with no name. */
    static native String strerrorname_np(int errnum);
}
