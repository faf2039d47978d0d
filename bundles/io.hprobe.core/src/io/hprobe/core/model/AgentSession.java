package io.hprobe.core.model;

import java.nio.file.Path;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;

import org.eclipse.jdt.annotation.Nullable;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;

import io.hprobe.core.journal.HitFields;
import io.hprobe.core.protocol.AgentConnection;
import io.hprobe.core.protocol.AgentEvent;
import io.hprobe.core.protocol.AgentException;

/**
 * The session half of an {@link Agent}: the socket, its state, and keeping it up. It connects (starting the
 * agent first when a launcher is set and nothing listens), greets the agent (agent-info, events-subscribe),
 * lets the owner load what it mirrors, and reconnects with a growing delay when the socket drops. With a
 * launcher, an agent that vanished without announcing its shutdown (AGENT_SHUTDOWN: a crash, kill -9) is
 * started again, and recovers the VMs it monitored; one shut down on purpose is left down. The owner
 * resumes each VM's hits from the last seq the VM holds ({@link #resumeHits}): the agent replays the gap
 * from the journal, so nothing is lost across a reconnect.
 */
final class AgentSession {

    /** What the owner loads on each new connection (blocking, before the state says CONNECTED). */
    @FunctionalInterface
    interface Sync {

        void run(AgentSession session) throws AgentException;
    }

    /** How long most commands may take. */
    static final long COMMAND_TIMEOUT_S = 30;
    private static final long MAX_RECONNECT_DELAY_S = 10;
    private static final String AGENT_SHUTDOWN = "AGENT_SHUTDOWN"; //$NON-NLS-1$

    private final Path socket;
    private final @Nullable AgentLauncher launcher;
    private final @Nullable SshTunnel tunnel;
    private final Consumer<AgentEvent> events;
    private final Sync sync;
    private final Runnable stateChanged;
    private final ScheduledExecutorService timer;
    private final AtomicBoolean closed = new AtomicBoolean();
    /** The agent said it is ending on purpose: do not start it again. */
    private volatile boolean announcedShutdown;
    private volatile @Nullable AgentConnection connection;
    private volatile Agent.State state = Agent.State.DISCONNECTED;
    private volatile @Nullable String lastError;
    private volatile JsonObject info = new JsonObject();

    /**
     * @param tunnel       the SSH forward to open before the socket (a remote agent), or null
     * @param events       gets every pushed event, on the connection's reader thread
     * @param sync         loads the owner's mirror on each new connection
     * @param stateChanged told after each change of {@link #state()} or {@link #lastError()}
     */
    AgentSession(Path socket, @Nullable AgentLauncher launcher, @Nullable SshTunnel tunnel, Consumer<AgentEvent> events,
            Sync sync, Runnable stateChanged) {
        this.socket = socket;
        this.launcher = launcher;
        this.tunnel = tunnel;
        this.events = events;
        this.sync = sync;
        this.stateChanged = stateChanged;
        this.timer = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "hprobe agent " + socket); //$NON-NLS-1$
            t.setDaemon(true);
            return t;
        });
    }

    Path socket() {
        return socket;
    }

    Agent.State state() {
        return state;
    }

    @Nullable
    String lastError() {
        return lastError;
    }

    JsonObject info() {
        return info;
    }

    /** The session's own thread, for blocking work that must not run on the reader (symbol loading). */
    Executor executor() {
        return timer;
    }

    /** Runs r later on the session's thread; nothing happens once the session is closed. */
    void schedule(Runnable r, long delay, TimeUnit unit) {
        try {
            timer.schedule(r, delay, unit);
        } catch (RejectedExecutionException e) {
            // closed: nothing more to do
        }
    }

    /** Connects, greets and syncs. Blocking: call it from a background job. */
    void connect() throws AgentException {
        if (closed.get()) {
            throw new AgentException(AgentException.DISCONNECTED, "agent closed", (JsonElement) null); //$NON-NLS-1$
        }
        setState(Agent.State.CONNECTING, null);
        announcedShutdown = false; // asked for now: start it even if it had shut down on purpose
        try {
            start(openOrStart());
        } catch (AgentException e) {
            setState(Agent.State.DISCONNECTED, e.desc());
            throw e;
        }
    }

    /** Opens the socket, first starting the agent when a launcher is set and nothing listens. */
    private AgentConnection openOrStart() throws AgentException {
        try {
            return open();
        } catch (AgentException e) {
            AgentLauncher l = launcher;
            if (l == null || announcedShutdown || !AgentException.DISCONNECTED.equals(e.errorClass())) {
                throw e;
            }
            l.start(socket);
            return open();
        }
    }

    private AgentConnection open() throws AgentException {
        SshTunnel t = tunnel;
        if (t != null) {
            t.open(); // again after ssh died (network gone, host rebooted)
        }
        return AgentConnection.open(socket, this::onEvent, this::onClosed);
    }

    private void onEvent(AgentEvent e) {
        if (AGENT_SHUTDOWN.equals(e.name())) {
            announcedShutdown = true;
        }
        events.accept(e);
    }

    private void start(AgentConnection c) throws AgentException {
        connection = c;
        announcedShutdown = false;
        info = asObject(join(c.call("agent-info", null, COMMAND_TIMEOUT_S, TimeUnit.SECONDS))); //$NON-NLS-1$
        HitFields.adoptAgent(info.get("hit_fields")); //$NON-NLS-1$
        join(c.call("events-subscribe", null, COMMAND_TIMEOUT_S, TimeUnit.SECONDS)); //$NON-NLS-1$
        sync.run(this);
        setState(Agent.State.CONNECTED, null);
    }

    private void onClosed(@Nullable Throwable why) {
        if (closed.get()) {
            return;
        }
        setState(Agent.State.DISCONNECTED, why == null ? "the agent closed the connection" : why.getMessage()); //$NON-NLS-1$
        scheduleReconnect(1);
    }

    /** Tries again after delaySeconds, doubling the delay up to 10 s while the agent stays away. */
    private void scheduleReconnect(long delaySeconds) {
        if (closed.get()) {
            return;
        }
        schedule(() -> {
            if (closed.get() || state == Agent.State.CONNECTED) {
                return;
            }
            try {
                start(openOrStart());
            } catch (AgentException | RuntimeException e) {
                setState(Agent.State.DISCONNECTED, e.getMessage());
                scheduleReconnect(Math.min(delaySeconds * 2, MAX_RECONNECT_DELAY_S));
            }
        }, delaySeconds, TimeUnit.SECONDS);
    }

    private void setState(Agent.State s, @Nullable String error) {
        state = s;
        lastError = error;
        stateChanged.run();
    }

    /** Closes the connection for good (the agent and its VMs keep running). */
    void close() {
        if (closed.getAndSet(true)) {
            return;
        }
        AgentConnection c = connection;
        if (c != null) {
            c.close();
        }
        timer.shutdownNow();
        SshTunnel t = tunnel;
        if (t != null) {
            t.dispose();
        }
        state = Agent.State.DISCONNECTED;
    }

    /** Sends a command. Fails with DISCONNECTED when not connected. */
    CompletableFuture<JsonElement> call(String command, @Nullable JsonObject args, long timeoutS) {
        AgentConnection c = connection;
        if (c == null || !c.isOpen()) {
            return CompletableFuture.failedFuture(new AgentException(AgentException.DISCONNECTED,
                    "not connected to the agent at " + socket, (JsonElement) null)); //$NON-NLS-1$
        }
        return c.call(command, args, timeoutS, TimeUnit.SECONDS);
    }

    /** {@link #call} about a VM: args gets its "vm" member. */
    CompletableFuture<JsonElement> callVm(String command, Vm vm, @Nullable JsonObject args) {
        JsonObject a = args == null ? new JsonObject() : args;
        a.addProperty("vm", vm.name()); //$NON-NLS-1$
        return call(command, a, COMMAND_TIMEOUT_S);
    }

    /**
     * Subscribes to a VM's hits from the one after the last the VM holds: on a first subscription that is
     * the journal's start, after a reconnect the gap the journal fills.
     */
    void resumeHits(Vm vm) {
        JsonObject a = new JsonObject();
        a.addProperty("from_seq", vm.hits().lastSeq() + 1); //$NON-NLS-1$
        callVm("hits-subscribe", vm, a); //$NON-NLS-1$
    }

    /** Waits for a reply; the agent's failure as an AgentException. */
    static JsonElement join(CompletableFuture<JsonElement> f) throws AgentException {
        try {
            return f.join();
        } catch (RuntimeException e) {
            AgentException a = AgentException.unwrap(e);
            if (a != null) {
                throw a;
            }
            throw e;
        }
    }

    static JsonObject asObject(JsonElement e) {
        return e instanceof JsonObject o ? o : new JsonObject();
    }
}
