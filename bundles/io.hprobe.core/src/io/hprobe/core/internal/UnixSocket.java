package io.hprobe.core.internal;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

import com.sun.jna.LastErrorException;
import com.sun.jna.Memory;
import com.sun.jna.ptr.IntByReference;

/**
 * A connected Unix stream socket made and used through the C library (JNA), for the one thing Java's own
 * cannot do: say who listens at the other end (SO_PEERCRED). A Java 17 SocketChannel keeps its file
 * descriptor in sun.nio.ch, closed to reflection, so the workbench's agent connection is this socket.
 * <p>
 * One thread reads, others may write (one at a time) and close. {@link #close()} shuts the socket down,
 * which wakes a blocked reader with end-of-file; the descriptor itself is released when the last call
 * using it has returned, so a closed descriptor number reused by another open is never read or written.
 */
public final class UnixSocket implements AutoCloseable {

    /** Who is at the other end, from the kernel (as it was when the peer called listen or connect). */
    public record Peer(int pid, int uid, int gid) {
    }

    private final int fd;
    private final String path;
    private final Memory readBuffer;
    private final Object writeLock = new Object();
    /** Calls in progress on fd; guarded by this. */
    private int users;
    /** Guarded by this. */
    private boolean closed;
    private boolean released;

    private UnixSocket(int fd, String path, int readBufferSize) {
        this.fd = fd;
        this.path = path;
        this.readBuffer = new Memory(readBufferSize);
    }

    /**
     * Connects to the socket at path.
     *
     * @param readBufferSize the most one {@link #read} returns
     * @throws IOException with the system's reason (No such file or directory, Connection refused...)
     */
    public static UnixSocket connect(Path socket, int readBufferSize) throws IOException {
        if (!Libc.abiKnown()) {
            throw new IOException("Unix sockets through the C library are known on Linux x86_64 and aarch64 only"); //$NON-NLS-1$
        }
        String path = socket.toString();
        byte[] name = path.getBytes(StandardCharsets.UTF_8);
        if (name.length >= Libc.SUN_PATH_MAX) {
            throw new IOException("socket path longer than " + (Libc.SUN_PATH_MAX - 1) + " bytes: " + path); //$NON-NLS-1$ //$NON-NLS-2$
        }
        // struct sockaddr_un: sa_family_t (host order, little-endian here), then the NUL-terminated path
        byte[] addr = new byte[2 + name.length + 1];
        addr[0] = (byte) Libc.AF_UNIX;
        System.arraycopy(name, 0, addr, 2, name.length);
        int fd;
        try {
            fd = Libc.socket(Libc.AF_UNIX, Libc.SOCK_STREAM | Libc.SOCK_CLOEXEC, 0);
        } catch (LastErrorException e) {
            throw error("socket", e); //$NON-NLS-1$
        } catch (LinkageError e) {
            throw new IOException("cannot call the C library through JNA: " + e, e); //$NON-NLS-1$
        }
        try {
            Libc.connect(fd, addr, addr.length);
        } catch (LastErrorException e) {
            closeQuietly(fd);
            throw new IOException(Libc.strerror(e.getErrorCode()), e); // the caller names the path
        }
        return new UnixSocket(fd, path, readBufferSize);
    }

    private static IOException error(String what, LastErrorException e) {
        return new IOException(what + ": " + Libc.strerror(e.getErrorCode()), e); //$NON-NLS-1$
    }

    private static void closeQuietly(int fd) {
        try {
            Libc.close(fd);
        } catch (LastErrorException e) {
            // nothing to do: the descriptor is released either way (Linux)
        }
    }

    /** The credentials of the process at the other end (SO_PEERCRED). */
    public Peer peer() throws IOException {
        enter();
        try (Memory cred = new Memory(Libc.UCRED_SIZE)) {
            IntByReference len = new IntByReference(Libc.UCRED_SIZE);
            Libc.getsockopt(fd, Libc.SOL_SOCKET, Libc.SO_PEERCRED, cred, len);
            if (len.getValue() != Libc.UCRED_SIZE) {
                throw new IOException(path + ": SO_PEERCRED gave " + len.getValue() + " bytes"); //$NON-NLS-1$ //$NON-NLS-2$
            }
            return new Peer(cred.getInt(0), cred.getInt(4), cred.getInt(8));
        } catch (LastErrorException e) {
            throw error(path + ": SO_PEERCRED", e); //$NON-NLS-1$
        } finally {
            exit();
        }
    }

    /**
     * Reads what is there, at most len bytes and the read buffer's size: blocks until something is.
     *
     * @return the bytes read, -1 at end of stream (the peer closed, or this socket was closed)
     */
    public int read(byte[] into, int off, int len) throws IOException {
        if (!enterIfOpen()) {
            return -1;
        }
        try {
            long n;
            while (true) {
                try {
                    n = Libc.read(fd, readBuffer, Math.min(len, readBuffer.size()));
                    break;
                } catch (LastErrorException e) {
                    if (e.getErrorCode() != Libc.EINTR) {
                        throw error(path, e);
                    }
                }
            }
            if (n <= 0) {
                return -1;
            }
            readBuffer.read(0, into, off, (int) n);
            return (int) n;
        } finally {
            exit();
        }
    }

    /** Writes all of b[off, off + len). A peer that has gone is an IOException (never SIGPIPE). */
    public void write(byte[] b, int off, int len) throws IOException {
        synchronized (writeLock) {
            enter();
            try (Memory m = new Memory(Math.max(1, len))) {
                m.write(0, b, off, len);
                long done = 0;
                while (done < len) {
                    try {
                        done += Libc.send(fd, m.share(done), len - done, Libc.MSG_NOSIGNAL);
                    } catch (LastErrorException e) {
                        if (e.getErrorCode() != Libc.EINTR) {
                            throw error(path, e);
                        }
                    }
                }
            } finally {
                exit();
            }
        }
    }

    private synchronized void enter() throws IOException {
        if (closed) {
            throw new IOException(path + ": socket closed"); //$NON-NLS-1$
        }
        users++;
    }

    private synchronized boolean enterIfOpen() {
        if (closed) {
            return false;
        }
        users++;
        return true;
    }

    private synchronized void exit() {
        users--;
        releaseIfIdle();
    }

    private void releaseIfIdle() {
        if (closed && users == 0 && !released) {
            released = true;
            closeQuietly(fd);
        }
    }

    public synchronized boolean isOpen() {
        return !closed;
    }

    /** Shuts the socket down (a blocked read returns -1, a blocked write fails) and releases it. */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        try {
            Libc.shutdown(fd, Libc.SHUT_RDWR);
        } catch (LastErrorException e) {
            // not connected any more: nothing to wake
        }
        releaseIfIdle();
    }
}
