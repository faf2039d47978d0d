package io.hprobe.core.model;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;

import org.eclipse.jdt.annotation.Nullable;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;

import io.hprobe.core.journal.JournalException;
import io.hprobe.core.journal.Journals;
import io.hprobe.core.protocol.AgentException;
import io.hprobe.core.protocol.Json;
import io.hprobe.core.symbols.Disassembly;
import io.hprobe.core.symbols.Symbol;
import io.hprobe.core.symbols.SymbolIndex;

/**
 * One hprobed agent and the mirror of its VMs, and the typed commands the views send it. The work is in
 * three parts: {@link AgentSession} holds the connection (connect, reconnect resuming each VM's hits, close,
 * state); this class turns commands into protocol calls and their replies into the model; {@link AgentEvents}
 * applies what the agent pushes.
 * <p>
 * Commands return futures completed on the connection's reader thread; the model is updated before the
 * future completes, so a caller that reads the model afterwards sees the change.
 */
public final class Agent {

    public enum State {
        DISCONNECTED, CONNECTING, CONNECTED,
    }

    /** vm-launch and vm-attach boot or reach a guest: longer than other commands. */
    private static final long LAUNCH_TIMEOUT_S = 180;

    private final HProbeModel model;
    private final long hitCapacity;
    private final AgentSession session;
    private final Map<String, Vm> vms = new LinkedHashMap<>();
    private final LibvirtConnection libvirt;
    private final @Nullable SshTunnel tunnel;

    /**
     * @param launcher starts the agent when nothing listens on socket; null to only connect
     */
    public Agent(HProbeModel model, Path socket, @Nullable AgentLauncher launcher, long hitCapacity) {
        this(model, socket, launcher, null, hitCapacity);
    }

    /** An agent on another host, reached through an SSH forward that each connection opens first. */
    public Agent(HProbeModel model, SshTunnel tunnel, long hitCapacity) {
        this(model, tunnel.localSocket(), null, tunnel, hitCapacity);
    }

    private Agent(HProbeModel model, Path socket, @Nullable AgentLauncher launcher, @Nullable SshTunnel tunnel,
            long hitCapacity) {
        this.model = model;
        this.hitCapacity = hitCapacity;
        this.tunnel = tunnel;
        this.libvirt = new LibvirtConnection(this, model);
        this.session = new AgentSession(socket, launcher, tunnel, new AgentEvents(this)::apply, s -> sync(),
                () -> model.fire(ModelChange.Kind.CONNECTION, this, null));
    }

    AgentSession session() {
        return session;
    }

    public Path socket() {
        return session.socket();
    }

    /** The forward to a remote agent, or null for a local one. */
    public @Nullable SshTunnel tunnel() {
        return tunnel;
    }

    /** Whether the agent runs on another host (its files are not this host's files). */
    public boolean isRemote() {
        return tunnel != null;
    }

    /** How the user named the agent: its ssh:// URL, or its socket path. */
    public String target() {
        SshTunnel t = tunnel;
        return t != null ? t.target() : session.socket().toString();
    }

    public State state() {
        return session.state();
    }

    /** Why the last connection attempt failed or the connection dropped, or null. */
    public @Nullable String lastError() {
        return session.lastError();
    }

    /** agent-info of the connected agent ({} before the first connection). */
    public JsonObject info() {
        return session.info();
    }

    public synchronized List<Vm> vms() {
        return List.copyOf(vms.values());
    }

    public synchronized @Nullable Vm vm(String name) {
        return vms.get(name);
    }

    /**
     * Connects (starting the agent first if a launcher is set and nothing listens), subscribes, and loads
     * the VMs. Blocking: call it from a background job.
     */
    public void connect() throws AgentException {
        session.connect();
    }

    /**
     * Loads the VMs on each new connection; each resumes its hits from what it holds. The libvirt domains
     * are listed too, without waiting: libvirtd may be slow or absent, and that is the listing's own state.
     */
    private void sync() throws AgentException {
        applyVmList(AgentSession.join(session.call("vm-list", null, AgentSession.COMMAND_TIMEOUT_S))); //$NON-NLS-1$
        libvirt.refresh();
    }

    /** Closes the connection for good (the agent and its VMs keep running). */
    public void close() {
        session.close();
    }

    /** Sends a command with the default timeout. Fails with DISCONNECTED when not connected. */
    public CompletableFuture<JsonElement> call(String command, @Nullable JsonObject args) {
        return session.call(command, args, AgentSession.COMMAND_TIMEOUT_S);
    }

    private CompletableFuture<JsonElement> callVm(String command, Vm vm, @Nullable JsonObject args) {
        return session.callVm(command, vm, args);
    }

    private static JsonObject asObject(JsonElement e) {
        return AgentSession.asObject(e);
    }

    // ---- VMs ----

    /** Re-reads vm-list. */
    public CompletableFuture<List<Vm>> refreshVms() {
        return call("vm-list", null).thenApply(r -> { //$NON-NLS-1$
            applyVmList(r);
            return vms();
        });
    }

    private void applyVmList(JsonElement list) {
        List<Vm> added = new ArrayList<>();
        boolean removed = false;
        Set<String> seen = new HashSet<>();
        for (JsonObject o : Json.objects(list)) {
            VmInfo vi = VmInfo.fromJson(o);
            seen.add(vi.name());
            Vm vm;
            synchronized (this) {
                vm = vms.get(vi.name());
                if (vm == null) {
                    vm = new Vm(model, this, vi, new HitStore(hitCapacity));
                    vms.put(vi.name(), vm);
                    added.add(vm);
                    originFromJournal(vm);
                }
            }
            vm.setInfo(vi);
        }
        synchronized (this) {
            for (var it = vms.entrySet().iterator(); it.hasNext();) {
                var e = it.next();
                if (!seen.contains(e.getKey())) {
                    it.remove();
                    e.getValue().markGone();
                    removed = true;
                }
            }
        }
        if (!added.isEmpty() || removed) {
            model.fire(ModelChange.Kind.VMS, this, null);
        }
        // every known VM: (re)subscribe to its hits from what we hold, and reload its probes and detectors
        for (Vm vm : vms()) {
            session.resumeHits(vm);
            refreshProbes(vm);
            refreshDetectors(vm);
        }
    }

    /**
     * Times on the timeline count from the journal's start, as in exports, when the journal can be read
     * here (a local agent and libhprobe); otherwise from the first hit.
     */
    private void originFromJournal(Vm vm) {
        String j = vm.info().journal();
        // another host's path may name a file here too: not the VM's
        if (j == null || !Journals.isAvailable() || !JournalCopy.sharesFiles(this, j)) {
            return;
        }
        try {
            vm.setTimeOriginNs(Journals.meta(Path.of(j)).monoBaseNs());
        } catch (JournalException | RuntimeException e) {
            // a remote or unreadable journal: the first hit is the origin
        }
    }

    private Vm added(JsonElement reply) {
        VmInfo vi = VmInfo.fromJson(asObject(reply));
        Vm vm;
        boolean isNew;
        synchronized (this) {
            vm = vms.get(vi.name());
            isNew = vm == null;
            if (vm == null) {
                vm = new Vm(model, this, vi, new HitStore(hitCapacity));
                vms.put(vi.name(), vm);
                originFromJournal(vm);
            }
        }
        vm.setInfo(vi);
        if (isNew) {
            model.fire(ModelChange.Kind.VMS, this, vm);
            session.resumeHits(vm);
            refreshProbes(vm);
        }
        return vm;
    }

    /** Boots a lab guest (about 10 s under TCG) and attaches. */
    public CompletableFuture<Vm> launchLab(LaunchOptions options) {
        return session.call("vm-launch", options.toJson(), LAUNCH_TIMEOUT_S).thenApply(this::added); //$NON-NLS-1$
    }

    /** Attaches to a running QEMU by its QMP socket. */
    public CompletableFuture<Vm> attach(AttachOptions options) {
        return session.call("vm-attach", options.toJson(), LAUNCH_TIMEOUT_S).thenApply(this::added); //$NON-NLS-1$
    }

    /**
     * Lifts every probe and leaves the guest running; the VM leaves the model (and, a libvirt domain, shows
     * as not attached once the domains are listed again).
     */
    public CompletableFuture<Void> detach(Vm vm) {
        CompletableFuture<Void> f = callVm("vm-detach", vm, null).thenCompose(r -> refreshVms()) //$NON-NLS-1$
                .thenAccept(Agent::done);
        return vm.info().source().isLibvirt() ? f.thenCompose(x -> relistLibvirt()).thenAccept(Agent::done) : f;
    }

    // ---- libvirt ----

    /** The libvirt connection this agent lists and attaches domains of. */
    public LibvirtConnection libvirt() {
        return libvirt;
    }

    /**
     * The domains of a libvirt connection (libvirt-list), running or not, each with the VM it is attached as.
     * When uri is the {@link #libvirt()} connection's, the listing (or its failure) is kept there.
     *
     * @param uri the connection URI; null for the agent's libvirt default
     */
    public CompletableFuture<List<LibvirtDomain>> listLibvirtDomains(@Nullable String uri) {
        JsonObject a = new JsonObject();
        if (uri != null && !uri.isBlank()) {
            a.addProperty("connect", uri.trim()); //$NON-NLS-1$
        }
        long gen = uri == null ? -1 : libvirt.listing(uri.trim());
        CompletableFuture<List<LibvirtDomain>> f = call("libvirt-list", a).thenApply(r -> { //$NON-NLS-1$
            List<LibvirtDomain> list = new ArrayList<>();
            for (JsonObject o : Json.objects(Json.get(asObject(r), "domains"))) { //$NON-NLS-1$
                list.add(LibvirtDomain.fromJson(o));
            }
            if (gen >= 0) {
                libvirt.listed(gen, list);
            }
            return List.copyOf(list);
        });
        if (gen >= 0) {
            f = f.whenComplete((list, e) -> {
                if (e != null) {
                    libvirt.failed(gen, e);
                }
            });
        }
        return f;
    }

    /**
     * Attaches a running libvirt domain through libvirt (vm-attach with "libvirt"). The future completes
     * once the VM is in the model and, for the {@link #libvirt()} connection's URI, its domains were listed
     * again (showing the domain attached); a failure of that listing is the listing's, not the attach's.
     *
     * @param domain the domain's name or UUID
     * @param uri    the connection URI; null for the agent's libvirt default
     * @param name   the VM's name in the agent; null for the domain's own name
     * @param plugin false to go without the in-QEMU tier even when the domain's QEMU loaded our plugin
     */
    public CompletableFuture<Vm> attachLibvirt(String domain, @Nullable String uri, @Nullable String name,
            boolean plugin) {
        JsonObject a = new JsonObject();
        a.addProperty("libvirt", domain); //$NON-NLS-1$
        if (uri != null && !uri.isBlank()) {
            a.addProperty("connect", uri.trim()); //$NON-NLS-1$
        }
        if (name != null && !name.isBlank()) {
            a.addProperty("name", name.trim()); //$NON-NLS-1$
        }
        if (!plugin) {
            a.addProperty("plugin", false); //$NON-NLS-1$ the agent's default is true
        }
        return session.call("vm-attach", a, LAUNCH_TIMEOUT_S).thenApply(this::added) //$NON-NLS-1$
                .thenCompose(vm -> relistLibvirt().thenApply(x -> vm));
    }

    /** Lists the libvirt connection's domains again, if it was listed before; never fails: whether it listed. */
    private CompletableFuture<Boolean> relistLibvirt() {
        if (libvirt.state() == LibvirtConnection.State.NOT_LISTED) {
            return CompletableFuture.completedFuture(false);
        }
        return libvirt.refresh().handle((list, e) -> e == null);
    }

    /** Powers off a launched guest. */
    public CompletableFuture<Void> quit(Vm vm) {
        return callVm("vm-quit", vm, null).thenCompose(r -> refreshVms()).thenAccept(Agent::done); //$NON-NLS-1$
    }

    public CompletableFuture<Void> pause(Vm vm) {
        return callVm("vm-pause", vm, null).thenCompose(r -> refreshVms()).thenAccept(Agent::done); //$NON-NLS-1$
    }

    public CompletableFuture<Void> resume(Vm vm) {
        return callVm("vm-resume", vm, null).thenCompose(r -> refreshVms()).thenAccept(Agent::done); //$NON-NLS-1$
    }

    /** Reads the guest's process list (vm-ps) into the VM. */
    public CompletableFuture<List<GuestProcess>> refreshProcesses(Vm vm) {
        return callVm("vm-ps", vm, null).thenApply(r -> { //$NON-NLS-1$
            // the agent answers {"tasks": [...]}; docs/protocol.md shows a bare array: accept both
            JsonElement tasks = r instanceof JsonObject o ? o.get("tasks") : r; //$NON-NLS-1$
            List<GuestProcess> list = new ArrayList<>();
            for (JsonObject t : Json.objects(tasks)) {
                list.add(GuestProcess.fromJson(t));
            }
            vm.setProcesses(list);
            return vm.processes();
        });
    }

    /**
     * Types input (may be null) into the serial console, then reads what is new since the last read into
     * the VM's console text.
     */
    public CompletableFuture<String> console(Vm vm, @Nullable String input) {
        JsonObject a = new JsonObject();
        a.addProperty("offset", vm.consoleOffset()); //$NON-NLS-1$
        if (input != null) {
            a.addProperty("input", input); //$NON-NLS-1$
        }
        return callVm("vm-console", vm, a).thenApply(r -> { //$NON-NLS-1$
            JsonObject o = asObject(r);
            String text = Json.str(o, "text", ""); //$NON-NLS-1$ //$NON-NLS-2$
            vm.appendConsole(text, Json.lng(o, "offset", vm.consoleOffset() + text.length())); //$NON-NLS-1$
            return text;
        });
    }

    // ---- symbols ----

    /** sym-search in the kernel, or in binary (a path on the agent's host) when given. */
    public CompletableFuture<SymbolIndex.Result> searchSymbols(Vm vm, String pattern, int limit,
            @Nullable String binary) {
        JsonObject a = new JsonObject();
        a.addProperty("pattern", pattern); //$NON-NLS-1$
        a.addProperty("limit", limit); //$NON-NLS-1$
        if (binary != null && !binary.isBlank()) {
            a.addProperty("binary", binary); //$NON-NLS-1$
        }
        return callVm("sym-search", vm, a).thenApply(r -> { //$NON-NLS-1$
            JsonObject o = asObject(r);
            return new SymbolIndex.Result(symbols(o), Json.integer(o, "total", 0)); //$NON-NLS-1$
        });
    }

    private static List<Symbol> symbols(JsonObject o) {
        List<Symbol> out = new ArrayList<>();
        for (JsonObject s : Json.objects(o.get("symbols"))) { //$NON-NLS-1$
            String type = Json.str(s, "type", "?"); //$NON-NLS-1$ //$NON-NLS-2$
            out.add(new Symbol(Json.str(s, "name", "?"), Json.addr(s, "addr", 0), type.isEmpty() ? '?' : type.charAt(0), //$NON-NLS-1$ //$NON-NLS-2$ //$NON-NLS-3$
                    Json.lng(s, "size", 0))); //$NON-NLS-1$
        }
        return out;
    }

    /**
     * The whole symbol table of the kernel (binary null) or of a binary, for a local {@link SymbolIndex}
     * (see {@link SymbolLoader}). Runs on the agent's own thread; the future completes with the index.
     */
    public CompletableFuture<SymbolIndex> loadSymbols(Vm vm, @Nullable String binary) {
        return CompletableFuture.supplyAsync(() -> {
            try {
                return new SymbolLoader(this, vm, binary).load();
            } catch (AgentException e) {
                throw new java.util.concurrent.CompletionException(e);
            }
        }, session.executor());
    }

    /** sym-lookup: each kernel address's function as func+0xoff, null where none holds it. */
    public CompletableFuture<List<@Nullable String>> lookupSymbols(Vm vm, List<Long> addrs) {
        JsonObject a = new JsonObject();
        com.google.gson.JsonArray arr = new com.google.gson.JsonArray();
        for (long x : addrs) {
            arr.add("0x" + Long.toHexString(x)); //$NON-NLS-1$
        }
        a.add("addrs", arr); //$NON-NLS-1$
        return callVm("sym-lookup", vm, a).thenApply(r -> { //$NON-NLS-1$
            List<@Nullable String> out = new ArrayList<>();
            JsonElement list = asObject(r).get("symbols"); //$NON-NLS-1$
            if (list != null && list.isJsonArray()) {
                for (JsonElement e : list.getAsJsonArray()) {
                    out.add(e.isJsonPrimitive() && e.getAsJsonPrimitive().isString() ? e.getAsString() : null);
                }
            }
            return out;
        });
    }

    /** sym-disas of a spec (kernel:FUNC or app:BINARY:FUNC). */
    public CompletableFuture<Disassembly> disassemble(Vm vm, String spec) {
        JsonObject a = new JsonObject();
        a.addProperty("spec", spec); //$NON-NLS-1$
        return callVm("sym-disas", vm, a).thenApply(r -> Disassembly.fromJson(asObject(r))); //$NON-NLS-1$
    }

    // ---- probes ----

    /** Re-reads probe-list (hit counts included; the removed ones name their hits). */
    public CompletableFuture<List<Probe>> refreshProbes(Vm vm) {
        JsonObject a = new JsonObject();
        a.addProperty("removed", true); //$NON-NLS-1$
        return callVm("probe-list", vm, a).thenApply(r -> { //$NON-NLS-1$
            List<Probe> list = new ArrayList<>();
            for (JsonObject o : Json.objects(r)) {
                list.add(Probe.fromJson(o));
            }
            vm.setProbes(list);
            return vm.probes();
        });
    }

    /**
     * Adds a probe. The agent's PROBE event ("added", the whole probe as probe-list shows it) reaches the
     * model before the reply, which names the probe by its id: no probe-list round trip. Should the event
     * be missing (another client's removal raced it, say), the request and the reply (id, addr, mechanism,
     * resume, state) make the probe.
     */
    public CompletableFuture<Probe> addProbe(Vm vm, ProbeRequest request) {
        return callVm("probe-add", vm, request.toJson()).thenApply(r -> { //$NON-NLS-1$
            JsonObject reply = asObject(r);
            int id = Json.integer(reply, "id", 0); //$NON-NLS-1$
            Probe p = vm.probe(id);
            if (p != null) {
                return p;
            }
            JsonObject made = request.toJson();
            reply.entrySet().forEach(e -> made.add(e.getKey(), e.getValue()));
            if (id != 0) {
                vm.applyProbeChange(made);
            }
            Probe now = vm.probe(id);
            return now != null ? now : Probe.fromJson(made);
        });
    }

    public CompletableFuture<Probe> setProbeEnabled(Vm vm, int probe, boolean enabled) {
        JsonObject a = new JsonObject();
        a.addProperty("probe", probe); //$NON-NLS-1$
        return callVm(enabled ? "probe-enable" : "probe-disable", vm, a).thenCompose(r -> refreshProbes(vm)) //$NON-NLS-1$ //$NON-NLS-2$
                .thenApply(list -> {
                    Probe p = vm.probe(probe);
                    if (p == null) {
                        throw new java.util.concurrent.CompletionException(new AgentException("UnknownProbe", //$NON-NLS-1$
                                "probe " + probe + " is gone", (JsonElement) null)); //$NON-NLS-1$ //$NON-NLS-2$
                    }
                    return p;
                });
    }

    public CompletableFuture<Void> removeProbe(Vm vm, int probe) {
        JsonObject a = new JsonObject();
        a.addProperty("probe", probe); //$NON-NLS-1$
        return callVm("probe-remove", vm, a).thenCompose(r -> refreshProbes(vm)).thenAccept(Agent::done); //$NON-NLS-1$
    }

    /** A probe's aggregation (agg-read); clear empties it after the read. */
    public CompletableFuture<AggTable> readAggregation(Vm vm, int probe, boolean clear) {
        JsonObject a = new JsonObject();
        a.addProperty("probe", probe); //$NON-NLS-1$
        if (clear) {
            a.addProperty("clear", true); //$NON-NLS-1$
        }
        return callVm("agg-read", vm, a).thenApply(r -> AggTable.fromJson(asObject(r))); //$NON-NLS-1$
    }

    /** The VM's counters (vm-stats): the journal's and the in-QEMU tier's; does not stop the VM. */
    public CompletableFuture<VmStats> readStats(Vm vm) {
        return callVm("vm-stats", vm, null).thenApply(r -> VmStats.fromJson(asObject(r))); //$NON-NLS-1$
    }

    // ---- detectors ----

    public CompletableFuture<List<Detector>> refreshDetectors(Vm vm) {
        return callVm("detector-list", vm, null).thenApply(r -> { //$NON-NLS-1$
            List<Detector> list = new ArrayList<>();
            for (JsonObject o : Json.objects(r)) {
                list.add(Detector.fromJson(o));
            }
            vm.setDetectors(list);
            return vm.detectors();
        });
    }

    /** Adds a detector of a kind with its JSON config; the future gives its id. */
    public CompletableFuture<Integer> addDetector(Vm vm, String kind, JsonObject config) {
        JsonObject a = new JsonObject();
        a.addProperty("kind", kind); //$NON-NLS-1$
        a.add("config", config.deepCopy()); //$NON-NLS-1$
        return callVm("detector-add", vm, a).thenCompose(r -> { //$NON-NLS-1$
            int id = Json.integer(asObject(r), "id", 0); //$NON-NLS-1$
            return refreshDetectors(vm).thenApply(x -> id);
        });
    }

    /** Enables or disables a detector: disabled, it keeps its configuration and state, its probes leave. */
    public CompletableFuture<Void> enableDetector(Vm vm, int detector, boolean on) {
        JsonObject a = new JsonObject();
        a.addProperty("detector", detector); //$NON-NLS-1$
        return callVm(on ? "detector-enable" : "detector-disable", vm, a) //$NON-NLS-1$ //$NON-NLS-2$
                .thenCompose(r -> refreshDetectors(vm)).thenAccept(Agent::done);
    }

    public CompletableFuture<Void> removeDetector(Vm vm, int detector) {
        JsonObject a = new JsonObject();
        a.addProperty("detector", detector); //$NON-NLS-1$
        return callVm("detector-remove", vm, a).thenCompose(r -> refreshDetectors(vm)).thenAccept(Agent::done); //$NON-NLS-1$
    }

    // ---- hits ----

    /** The full record of one hit from the journal (registers, memory), for the details. */
    public CompletableFuture<JsonObject> readHit(Vm vm, long seq) {
        JsonObject a = new JsonObject();
        a.addProperty("from_seq", seq); //$NON-NLS-1$
        a.addProperty("limit", 1); //$NON-NLS-1$
        return callVm("hits-read", vm, a).thenApply(r -> { //$NON-NLS-1$
            for (JsonObject h : Json.objects(asObject(r).get("hits"))) { //$NON-NLS-1$
                if (Json.lng(h, "seq", -1) == seq) { //$NON-NLS-1$
                    return h;
                }
            }
            return new JsonObject();
        });
    }

    /** journal-info: where the VM's journal is and how far it is flushed. */
    public CompletableFuture<JsonObject> journalInfo(Vm vm) {
        return callVm("journal-info", vm, null).thenApply(Agent::asObject); //$NON-NLS-1$
    }

    /** The end of a command whose result the model already holds. */
    private static void done(Object result) {
        // nothing more: the refresh before it updated the model
    }

    @Override
    public String toString() {
        return target();
    }
}
