package io.hprobe.core.model;

import java.util.ArrayList;
import java.util.Collection;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;

import org.eclipse.jdt.annotation.Nullable;

import com.google.gson.JsonObject;

/**
 * One VM, live (of an {@link Agent}) or offline (read from a saved journal). Its facts come from one owner,
 * the agent (or the journal); this object mirrors them and tells the model's listeners when they change.
 * Getters return immutable snapshots and are safe from any thread.
 */
public final class Vm {

    /** Removed probes kept to name their hits' arguments (as many as the agent keeps). */
    private static final int REMOVED_KEEP = 256;

    /** Console text kept per VM (the tail; older text is dropped). */
    private static final int CONSOLE_KEEP = 256 * 1024;

    private final HProbeModel model;
    private final @Nullable Agent agent;
    private final String name;
    private final HitStore hits;
    private VmInfo info;
    private List<GuestProcess> processes = List.of();
    private final Map<Integer, Probe> probes = new TreeMap<>();
    private final Map<Integer, Probe> removed = new LinkedHashMap<>();
    private final Map<Integer, Detector> detectors = new TreeMap<>();
    private final List<Alert> alerts = new ArrayList<>();
    private final StringBuilder console = new StringBuilder();
    private long consoleOffset;
    private long timeOriginNs = Long.MIN_VALUE;
    private boolean gone;
    private final @Nullable AddressNames addressNames;
    /** Names a journal gave its IPs (IP_NAME events), for a VM read offline: no agent to ask. */
    private final Map<Long, String> journalNames = new ConcurrentHashMap<>();
    /** As many as the library's exporter keeps: a forged journal cannot fill the heap. */
    private static final int JOURNAL_NAMES_MAX = 65536;
    private static final int JOURNAL_NAME_CHARS = 255;

    Vm(HProbeModel model, @Nullable Agent agent, VmInfo info, HitStore hits) {
        this.model = model;
        this.agent = agent;
        this.name = info.name();
        this.info = info;
        this.hits = hits;
        Agent a = agent;
        this.addressNames = a == null
                ? null
                : new AddressNames(addrs -> a.lookupSymbols(this, addrs),
                        () -> model.fire(ModelChange.Kind.HITS, a, this));
    }

    /** A VM read from a journal with no agent; fill it with the package's loaders. */
    public static Vm offline(HProbeModel model, VmInfo info, HitStore hits) {
        return new Vm(model, null, info, hits);
    }

    public String name() {
        return name;
    }

    /** The agent that serves it; null for a journal opened offline. */
    public @Nullable Agent agent() {
        return agent;
    }

    public boolean isLive() {
        return agent != null && !gone;
    }

    public synchronized VmInfo info() {
        return info;
    }

    public HitStore hits() {
        return hits;
    }

    /** The name of a kernel address (an IP) as the guest kernel names it; null until known, or none. */
    public @Nullable String addressName(long addr) {
        AddressNames n = addressNames;
        return n == null ? journalNames.get(addr) : n.name(addr);
    }

    /**
     * Names an address as a journal's IP_NAME event does (the latest wins), for a VM read offline. The name is
     * the guest's: cut, and its control characters shown as U+FFFD.
     */
    public void nameAddress(long addr, String name) {
        if (name.isEmpty() || (journalNames.size() >= JOURNAL_NAMES_MAX && !journalNames.containsKey(addr))) {
            return;
        }
        String cut = name.length() > JOURNAL_NAME_CHARS ? name.substring(0, JOURNAL_NAME_CHARS) : name;
        journalNames.put(addr, cut.codePoints().map(c -> Character.isISOControl(c) ? 0xFFFD : c)
                .collect(StringBuilder::new, StringBuilder::appendCodePoint, StringBuilder::append).toString());
    }

    /** Changes when names of addresses arrive (see {@link AddressNames#answered()}). */
    public int addressNamesAnswered() {
        AddressNames n = addressNames;
        return n == null ? 0 : n.answered();
    }

    public synchronized List<GuestProcess> processes() {
        return processes;
    }

    public synchronized List<Probe> probes() {
        return List.copyOf(probes.values());
    }

    public synchronized @Nullable Probe probe(int id) {
        return probes.get(id);
    }

    /** The probe a hit came from: a live one, else one removed since (its hits keep its parameters). */
    public synchronized @Nullable Probe probeOfHit(int id) {
        Probe p = probes.get(id);
        return p != null ? p : removed.get(id);
    }

    private void keepRemoved(Probe p) {
        removed.remove(p.id());
        removed.put(p.id(), p);
        Iterator<Integer> oldest = removed.keySet().iterator();
        while (removed.size() > REMOVED_KEEP) {
            oldest.next();
            oldest.remove();
        }
    }

    public synchronized List<Detector> detectors() {
        return List.copyOf(detectors.values());
    }

    public synchronized List<Alert> alerts() {
        return List.copyOf(alerts);
    }

    /** The console text seen so far (its tail). */
    public synchronized String consoleText() {
        return console.toString();
    }

    synchronized long consoleOffset() {
        return consoleOffset;
    }

    /**
     * Host monotonic ns that the timeline calls zero: the journal's start when known, else the first hit.
     * Long.MIN_VALUE until either is known.
     */
    public synchronized long timeOriginNs() {
        if (timeOriginNs == Long.MIN_VALUE && hits.count() > 0) {
            timeOriginNs = hits.time(hits.first());
        }
        return timeOriginNs;
    }

    public synchronized void setTimeOriginNs(long t) {
        timeOriginNs = t;
    }

    /** True once the agent no longer lists it (quit, detached) or the agent is gone. */
    public synchronized boolean isGone() {
        return gone;
    }

    // ---- updates: from the Agent (live) or a journal loader (offline) ----

    void setInfo(VmInfo newInfo) {
        synchronized (this) {
            info = newInfo;
        }
        model.fire(ModelChange.Kind.VM_INFO, agent, this);
    }

    void markGone() {
        synchronized (this) {
            gone = true;
        }
        model.fire(ModelChange.Kind.VM_INFO, agent, this);
    }

    void setProcesses(List<GuestProcess> list) {
        synchronized (this) {
            processes = List.copyOf(list);
        }
        model.fire(ModelChange.Kind.PROCESSES, agent, this);
    }

    void setProbes(Collection<Probe> list) {
        synchronized (this) {
            probes.clear();
            for (Probe p : list) {
                if ("removed".equals(p.state())) { //$NON-NLS-1$
                    keepRemoved(p);
                } else {
                    probes.put(p.id(), p);
                }
            }
        }
        model.fire(ModelChange.Kind.PROBES, agent, this);
    }

    /** Applies a PROBE event or journal record: a full definition, a partial change, or a removal. */
    public void applyProbeChange(JsonObject o) {
        int id = io.hprobe.core.protocol.Json.integer(o, "id", 0); //$NON-NLS-1$
        if (id == 0) {
            return;
        }
        String change = io.hprobe.core.protocol.Json.str(o, "change", ""); //$NON-NLS-1$ //$NON-NLS-2$
        synchronized (this) {
            Probe old = probes.get(id);
            if ("removed".equals(change)) { //$NON-NLS-1$
                probes.remove(id);
                keepRemoved(old != null ? old.merge(o) : Probe.fromJson(o));
            } else if (old == null) {
                probes.put(id, Probe.fromJson(o));
            } else {
                probes.put(id, old.merge(o));
            }
        }
        model.fire(ModelChange.Kind.PROBES, agent, this);
    }

    /** Sets probe hit counts (offline: counted from the journal). */
    public void setProbeHits(Map<Integer, Long> counts) {
        synchronized (this) {
            counts.forEach((id, n) -> {
                Probe p = probes.get(id);
                if (p != null) {
                    probes.put(id, p.withHits(n));
                }
            });
        }
        model.fire(ModelChange.Kind.PROBES, agent, this);
    }

    void setDetectors(Collection<Detector> list) {
        synchronized (this) {
            detectors.clear();
            for (Detector d : list) {
                detectors.put(d.id(), d);
            }
        }
        model.fire(ModelChange.Kind.DETECTORS, agent, this);
    }

    /** Applies a DETECTOR_STATE event or journal record. */
    public void applyDetectorState(JsonObject state) {
        int id = io.hprobe.core.protocol.Json.integer(state, "id", 0); //$NON-NLS-1$
        synchronized (this) {
            Detector d = detectors.get(id);
            if (d == null) {
                d = new Detector(id, io.hprobe.core.protocol.Json.str(state, "kind", "?"), new JsonObject(), //$NON-NLS-1$ //$NON-NLS-2$
                        new JsonObject(), 0, true);
            }
            detectors.put(id, d.withState(state));
        }
        model.fire(ModelChange.Kind.DETECTORS, agent, this);
    }

    /** Adds an alert (ALERT event or journal record). */
    public void addAlert(JsonObject o, long fallbackTimeNs) {
        synchronized (this) {
            alerts.add(Alert.fromJson(o, fallbackTimeNs));
        }
        model.fire(ModelChange.Kind.ALERTS, agent, this);
    }

    void appendConsole(String text, long newOffset) {
        if (text.isEmpty() && newOffset == consoleOffset()) {
            return;
        }
        synchronized (this) {
            console.append(text);
            if (console.length() > CONSOLE_KEEP) {
                console.delete(0, console.length() - CONSOLE_KEEP);
            }
            consoleOffset = newOffset;
        }
        model.fire(ModelChange.Kind.CONSOLE, agent, this);
    }

    /** Tells listeners that hits were appended (called after a batch, not per hit). */
    public void hitsAppended() {
        model.fire(ModelChange.Kind.HITS, agent, this);
    }

    @Override
    public String toString() {
        return name;
    }
}
