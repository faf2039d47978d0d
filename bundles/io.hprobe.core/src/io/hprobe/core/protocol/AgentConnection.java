package io.hprobe.core.protocol;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;

import org.eclipse.jdt.annotation.Nullable;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParseException;
import com.google.gson.JsonParser;
import com.google.gson.JsonPrimitive;

import io.hprobe.core.internal.Posix;
import io.hprobe.core.internal.UnixSocket;

/**
 * One connection to hprobed: newline-delimited JSON over a Unix domain socket.
 * <ul>
 * <li>Commands are sent with a numeric id; the reply completes the future of that id, in any order.</li>
 * <li>Events go to the event consumer on the reader thread, in the order received (HITS batches must stay
 * ordered); the consumer must be quick or hand off.</li>
 * <li>When the socket closes, every pending future fails with {@link AgentException#DISCONNECTED} and the
 * close handler runs once. Reconnecting is the owner's job (a new connection), see the model's Agent.</li>
 * <li>Before a byte is read, the kernel says who listens (SO_PEERCRED): only an agent of this user, or of
 * root, is talked to. Anyone can listen first on a socket path (in /tmp, say) and answer in the agent's
 * place, to read what we ask or to feed us what it likes. The CLI has the same rule (native/cli/src/conn.c).</li>
 * </ul>
 */
public final class AgentConnection implements AutoCloseable {

    /** The protocol version this client speaks (greeting member "protocol"). */
    public static final int PROTOCOL = 1;
    /**
     * Largest line accepted from the agent. The protocol's 1 MiB bound is on what the agent accepts; its
     * replies can be longer (a sym-search of 20000 names is ~1.5 MB), so only a runaway line is refused.
     */
    private static final int MAX_FRAME = 64 << 20;
    private static final int READ_SIZE = 256 * 1024;

    private final UnixSocket channel;
    private final JsonObject greeting;
    private final Map<Long, CompletableFuture<JsonElement>> pending = new ConcurrentHashMap<>();
    private final AtomicLong nextId = new AtomicLong(1);
    private final Object writeLock = new Object();
    private final Consumer<AgentEvent> events;
    private final Consumer<@Nullable Throwable> onClose;
    private final Thread reader;
    private final byte[] in = new byte[READ_SIZE];
    private final ByteArrayOutputStream line = new ByteArrayOutputStream(64 * 1024);
    private volatile boolean closed;

    private AgentConnection(UnixSocket channel, Path socket, JsonObject greeting, Consumer<AgentEvent> events,
            Consumer<@Nullable Throwable> onClose) {
        this.channel = channel;
        this.greeting = greeting;
        this.events = events;
        this.onClose = onClose;
        this.reader = new Thread(this::readLoop, "hprobed reader " + socket); //$NON-NLS-1$
        this.reader.setDaemon(true);
    }

    /**
     * Connects, checks who listens, reads and checks the greeting, then starts the reader thread.
     *
     * @throws AgentException DISCONNECTED if nothing listens, UNTRUSTED if another user's process listens,
     *                        PROTOCOL if the agent speaks another protocol
     */
    public static AgentConnection open(Path socket, Consumer<AgentEvent> events, Consumer<@Nullable Throwable> onClose)
            throws AgentException {
        UnixSocket ch = null;
        try {
            ch = UnixSocket.connect(socket, READ_SIZE);
            String refused = refusal(socket, ch.peer(), Posix.euid());
            if (refused != null) {
                throw new AgentException(AgentException.UNTRUSTED, refused, (JsonElement) null);
            }
            JsonObject hello = readGreeting(ch);
            JsonObject info = Json.obj(hello, "hprobe"); //$NON-NLS-1$
            int protocol = Json.integer(info, "protocol", -1); //$NON-NLS-1$
            if (protocol != PROTOCOL) {
                throw new AgentException(AgentException.PROTOCOL,
                        "agent at " + socket + " speaks protocol " + protocol + ", this workbench " + PROTOCOL, //$NON-NLS-1$ //$NON-NLS-2$ //$NON-NLS-3$
                        (JsonElement) null);
            }
            AgentConnection c = new AgentConnection(ch, socket, info, events, onClose);
            c.reader.start();
            return c;
        } catch (IOException e) {
            closeQuietly(ch);
            throw new AgentException(AgentException.DISCONNECTED, "cannot connect to " + socket + ": " + e.getMessage(), //$NON-NLS-1$ //$NON-NLS-2$
                    e);
        } catch (AgentException | RuntimeException e) {
            closeQuietly(ch);
            throw e;
        }
    }

    /**
     * Why the process listening on socket must not be talked to, or null when it may: it runs as this
     * process's effective user, or as root (who can read and change everything of ours anyway). Root's
     * workbench, like anyone's, refuses another user's agent: an unprivileged agent must not steer root.
     */
    static @Nullable String refusal(Path socket, UnixSocket.Peer peer, int euid) {
        if (peer.uid() == euid || peer.uid() == 0) {
            return null;
        }
        return socket + ": the process listening there (pid " + peer.pid() + ") runs as uid " + peer.uid() //$NON-NLS-1$ //$NON-NLS-2$
                + ", not as you (uid " + euid + ") or root: not talking to it"; //$NON-NLS-1$ //$NON-NLS-2$
    }

    /** Byte by byte up to the first newline: the greeting is small and nothing may be read past it. */
    private static JsonObject readGreeting(UnixSocket ch) throws IOException, AgentException {
        byte[] one = new byte[1];
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        while (buf.size() < 64 * 1024) {
            if (ch.read(one, 0, 1) < 0) {
                throw new IOException("closed before the greeting"); //$NON-NLS-1$
            }
            byte b = one[0];
            if (b == '\n') {
                try {
                    JsonElement e = JsonParser.parseString(buf.toString(StandardCharsets.UTF_8));
                    if (e instanceof JsonObject o && o.has("hprobe")) { //$NON-NLS-1$
                        return o;
                    }
                } catch (JsonParseException ex) {
                    // fall through: not an hprobed greeting
                }
                throw new AgentException(AgentException.PROTOCOL, "not an hprobed greeting: " + buf, //$NON-NLS-1$
                        (JsonElement) null);
            }
            buf.write(b);
        }
        throw new AgentException(AgentException.PROTOCOL, "greeting too long", (JsonElement) null); //$NON-NLS-1$
    }

    /** The greeting's "hprobe" object: version, protocol, pid, capabilities. */
    public JsonObject greeting() {
        return greeting;
    }

    public boolean isOpen() {
        return !closed;
    }

    /** Sends a command; the future completes with the "return" value or fails with an AgentException. */
    public CompletableFuture<JsonElement> call(String command, @Nullable JsonObject arguments) {
        CompletableFuture<JsonElement> f = new CompletableFuture<>();
        if (closed) {
            f.completeExceptionally(
                    new AgentException(AgentException.DISCONNECTED, "not connected", (JsonElement) null)); //$NON-NLS-1$
            return f;
        }
        long id = nextId.getAndIncrement();
        JsonObject msg = new JsonObject();
        msg.addProperty("execute", command); //$NON-NLS-1$
        msg.addProperty("id", id); //$NON-NLS-1$
        if (arguments != null && arguments.size() > 0) {
            msg.add("arguments", arguments); //$NON-NLS-1$
        }
        pending.put(id, f);
        byte[] bytes = (msg.toString() + "\n").getBytes(StandardCharsets.UTF_8); //$NON-NLS-1$
        try {
            synchronized (writeLock) {
                channel.write(bytes, 0, bytes.length);
            }
        } catch (IOException e) {
            pending.remove(id);
            f.completeExceptionally(
                    new AgentException(AgentException.DISCONNECTED, "send failed: " + e.getMessage(), e)); //$NON-NLS-1$
            shutdown(e);
        }
        return f;
    }

    /** {@link #call} with a deadline: the future fails with NO_REPLY when the agent stays silent. */
    public CompletableFuture<JsonElement> call(String command, @Nullable JsonObject arguments, long timeout,
            TimeUnit unit) {
        return call(command, arguments).applyToEither(timeoutAfter(command, timeout, unit), x -> x);
    }

    private static CompletableFuture<JsonElement> timeoutAfter(String command, long timeout, TimeUnit unit) {
        CompletableFuture<JsonElement> t = new CompletableFuture<>();
        CompletableFuture.delayedExecutor(timeout, unit)
                .execute(() -> t.completeExceptionally(new AgentException(AgentException.NO_REPLY,
                        command + ": no reply after " + unit.toSeconds(timeout) + " s", //$NON-NLS-1$ //$NON-NLS-2$
                        (JsonElement) null)));
        return t;
    }

    private void readLoop() {
        Throwable why = null;
        try {
            while (!closed) {
                int n = channel.read(in, 0, in.length);
                if (n < 0) {
                    break;
                }
                byte[] a = in;
                int start = 0;
                for (int i = 0; i < n; i++) {
                    if (a[i] == '\n') {
                        line.write(a, start, i - start);
                        dispatch(line.toString(StandardCharsets.UTF_8));
                        line.reset();
                        start = i + 1;
                    }
                }
                line.write(a, start, n - start);
                if (line.size() > MAX_FRAME) {
                    throw new IOException("frame over " + MAX_FRAME + " bytes from the agent"); //$NON-NLS-1$ //$NON-NLS-2$
                }
            }
        } catch (IOException | RuntimeException e) {
            why = e;
        }
        shutdown(why);
    }

    private void dispatch(String text) {
        JsonObject msg;
        try {
            JsonElement e = JsonParser.parseString(text);
            if (!(e instanceof JsonObject o)) {
                return;
            }
            msg = o;
        } catch (JsonParseException e) {
            return; // one bad line must not end the session
        }
        JsonElement event = msg.get("event"); //$NON-NLS-1$
        if (event instanceof JsonPrimitive name) {
            JsonObject ts = Json.obj(msg, "timestamp"); //$NON-NLS-1$
            long micros = Json.lng(ts, "seconds", 0) * 1_000_000L + Json.lng(ts, "microseconds", 0); //$NON-NLS-1$ //$NON-NLS-2$
            try {
                events.accept(
                        new AgentEvent(name.getAsString(), Json.strOrNull(msg, "vm"), Json.obj(msg, "data"), micros)); //$NON-NLS-1$ //$NON-NLS-2$
            } catch (RuntimeException ex) {
                // a listener bug must not stop the reader: the rest of the stream still matters
                ex.printStackTrace();
            }
            return;
        }
        JsonElement id = msg.get("id"); //$NON-NLS-1$
        if (!(id instanceof JsonPrimitive p) || !p.isNumber()) {
            return;
        }
        CompletableFuture<JsonElement> f = pending.remove(p.getAsLong());
        if (f == null) {
            return;
        }
        JsonElement error = msg.get("error"); //$NON-NLS-1$
        if (error instanceof JsonObject err) {
            f.completeExceptionally(new AgentException(Json.str(err, "class", "Internal"), Json.str(err, "desc", ""), //$NON-NLS-1$ //$NON-NLS-2$ //$NON-NLS-3$ //$NON-NLS-4$
                    Json.get(err, "data"))); //$NON-NLS-1$
        } else {
            JsonElement ret = msg.get("return"); //$NON-NLS-1$
            f.complete(ret == null ? new JsonObject() : ret);
        }
    }

    private void shutdown(@Nullable Throwable why) {
        synchronized (this) {
            if (closed) {
                return;
            }
            closed = true;
        }
        closeQuietly(channel);
        AgentException gone = new AgentException(AgentException.DISCONNECTED, "connection to the agent closed", //$NON-NLS-1$
                (JsonElement) null);
        pending.values().forEach(f -> f.completeExceptionally(gone));
        pending.clear();
        onClose.accept(why);
    }

    @Override
    public void close() {
        shutdown(null);
    }

    private static void closeQuietly(@Nullable UnixSocket ch) {
        if (ch != null) {
            ch.close();
        }
    }
}
