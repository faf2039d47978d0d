package io.hprobe.core.journal;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;

import org.eclipse.jdt.annotation.Nullable;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParseException;
import com.google.gson.JsonParser;
import com.sun.jna.Memory;
import com.sun.jna.Pointer;
import com.sun.jna.ptr.PointerByReference;

import io.hprobe.core.model.HProbeModel;
import io.hprobe.core.model.HitStore;
import io.hprobe.core.model.ModelChange;
import io.hprobe.core.model.Vm;
import io.hprobe.core.model.VmInfo;
import io.hprobe.core.model.VmSource;
import io.hprobe.core.protocol.Json;

/**
 * Saved journals through libhprobe: the header, offline loading into a {@link Vm}, and the exporters. The
 * journal format is libhprobe's alone; nothing here parses the file itself.
 */
public final class Journals {

    private Journals() {
    }

    /** Whether libhprobe could be loaded; if not, {@link #unavailableReason()} says why. */
    public static boolean isAvailable() {
        return LibHprobe.load();
    }

    public static String unavailableReason() {
        LibHprobe.load();
        String e = LibHprobe.loadError();
        return e == null ? "" : e; //$NON-NLS-1$
    }

    /** libhprobe's version, e.g. "0.1.0". */
    public static String libraryVersion() throws JournalException {
        requireLibrary();
        return LibHprobe.hp_version();
    }

    private static void requireLibrary() throws JournalException {
        if (!LibHprobe.load()) {
            throw new JournalException(unavailableReason());
        }
    }

    /** Reads a journal's header. */
    public static JournalMeta meta(Path journal) throws JournalException {
        requireLibrary();
        Memory err = new Memory(LibHprobe.ERR_SIZE);
        err.clear();
        PointerByReference ref = new PointerByReference();
        int rc = LibHprobe.hp_journal__open(journal.toString(), ref, err);
        if (rc < 0) {
            throw new JournalException(journal + ": " + LibHprobe.errText(err)); //$NON-NLS-1$
        }
        Pointer r = ref.getValue();
        try {
            return meta(r);
        } finally {
            LibHprobe.hp_journal__close_reader(r);
        }
    }

    private static JournalMeta meta(Pointer reader) {
        Pointer m = LibHprobe.hp_journal__meta(reader);
        return new JournalMeta(m.getString(LibHprobe.META_SESSION, "UTF-8"), m.getString(LibHprobe.META_VM, "UTF-8"), //$NON-NLS-1$ //$NON-NLS-2$
                m.getString(LibHprobe.META_KERNEL, "UTF-8"), m.getLong(LibHprobe.META_CREATED), //$NON-NLS-1$
                m.getLong(LibHprobe.META_MONO_BASE));
    }

    /**
     * Reads a whole journal into a new offline VM (not yet added to the model): hits into its store, probe
     * definitions, detector states and alerts. Progress is in bytes of the file.
     */
    public static Outcome<Vm> load(HProbeModel model, Path journal, long hitCapacity, ProgressSink progress) {
        if (!LibHprobe.load()) {
            return Outcome.failed(unavailableReason());
        }
        Memory err = new Memory(LibHprobe.ERR_SIZE);
        err.clear();
        PointerByReference ref = new PointerByReference();
        int rc = LibHprobe.hp_journal__open(journal.toString(), ref, err);
        if (rc < 0) {
            return Outcome.failed(journal + ": " + LibHprobe.errText(err)); //$NON-NLS-1$
        }
        Pointer reader = ref.getValue();
        try {
            JournalMeta meta = meta(reader);
            String name = meta.vmName().isEmpty() ? String.valueOf(journal.getFileName()) : meta.vmName();
            Vm vm = Vm.offline(model, new VmInfo(name, VmInfo.OFFLINE, "", 0, "", meta.kernel(), 0, false, //$NON-NLS-1$ //$NON-NLS-2$
                    journal.toString(), null, VmSource.UNKNOWN), new HitStore(hitCapacity));
            vm.setTimeOriginNs(meta.monoBaseNs());
            long size = fileSize(journal);
            Memory rec = new Memory(LibHprobe.REC_SIZE);
            long[] args = new long[6];
            Map<Integer, Long> counts = new HashMap<>();
            long n = 0;
            while ((rc = LibHprobe.hp_journal__next(reader, rec, err)) == 1) {
                int type = rec.getInt(LibHprobe.REC_TYPE);
                if (type == LibHprobe.REC_HIT) {
                    int probe = appendHit(vm.hits(), rec, args);
                    counts.merge(probe, 1L, Long::sum);
                } else if (type == LibHprobe.REC_COUNT) {
                    counts.merge(rec.getInt(LibHprobe.REC_U + LibHprobe.COUNT_PROBE),
                            rec.getLong(LibHprobe.REC_U + LibHprobe.COUNT_COUNT), Long::sum);
                } else if (type == LibHprobe.REC_PROBE || type == LibHprobe.REC_EVENT || type == LibHprobe.REC_ALERT) {
                    applyJson(vm, type, rec);
                }
                if ((++n & 0xffff) == 0) {
                    progress.progress(LibHprobe.hp_journal__offset(reader), size);
                    if (progress.isCancelled()) {
                        return Outcome.cancelled(journal.toString());
                    }
                }
            }
            if (rc < 0) {
                return Outcome.failed(journal + ": " + LibHprobe.errText(err)); //$NON-NLS-1$
            }
            vm.setProbeHits(counts);
            progress.progress(size, size);
            model.changed(ModelChange.Kind.HITS, vm);
            return Outcome.ok(vm, vm.hits().count() + " hits"); //$NON-NLS-1$
        } finally {
            LibHprobe.hp_journal__close_reader(reader);
        }
    }

    private static long fileSize(Path p) {
        try {
            return Files.size(p);
        } catch (IOException e) {
            return 0;
        }
    }

    private static int appendHit(HitStore store, Memory rec, long[] args) {
        int h = LibHprobe.REC_U;
        int flags = rec.getInt(h + LibHprobe.HIT_FLAGS);
        int nargs = Math.min(rec.getByte(h + LibHprobe.HIT_NARGS) & 0xff, args.length);
        for (int i = 0; i < nargs; i++) {
            args[i] = rec.getLong(h + LibHprobe.HIT_ARGS + 8L * i);
        }
        int probe = rec.getInt(h + LibHprobe.HIT_PROBE);
        store.append(rec.getLong(LibHprobe.REC_SEQ), probe, rec.getInt(h + LibHprobe.HIT_VCPU),
                rec.getLong(h + LibHprobe.HIT_TIME), rec.getInt(h + LibHprobe.HIT_PID),
                rec.getInt(h + LibHprobe.HIT_TGID), comm(rec, h + LibHprobe.HIT_COMM),
                rec.getLong(h + LibHprobe.HIT_IP), (flags & LibHprobe.HIT_USER) != 0,
                (flags & LibHprobe.HIT_BLOCKED) != 0, args, nargs, rec.getLong(h + LibHprobe.HIT_RETVAL),
                (flags & LibHprobe.HIT_RET) != 0
                        ? latency(rec.getLong(h + LibHprobe.HIT_LATENCY))
                        : HitStore.NO_LATENCY);
        return probe;
    }

    /** A journalled latency (unsigned 64-bit): past Long.MAX_VALUE ns (292 years) it is damage, kept as the most. */
    private static long latency(long ns) {
        return ns < 0 ? Long.MAX_VALUE : ns;
    }

    /** The comm bytes up to the first NUL (at most 16), decoded leniently: guest-controlled. */
    private static String comm(Memory rec, long off) {
        byte[] b = rec.getByteArray(off, 16);
        int len = 0;
        while (len < b.length && b[len] != 0) {
            len++;
        }
        return new String(b, 0, len, StandardCharsets.UTF_8);
    }

    private static void applyJson(Vm vm, int type, Memory rec) {
        Pointer json = rec.getPointer(LibHprobe.REC_JSON);
        if (json == null) {
            return;
        }
        JsonObject o = parse(json.getString(0, "UTF-8")); //$NON-NLS-1$
        if (o == null) {
            return;
        }
        // the agent journals events as {"event": NAME, "data": {...}}; accept a bare object too
        JsonObject data = o.has("data") ? Json.obj(o, "data") : o; //$NON-NLS-1$ //$NON-NLS-2$
        String event = Json.str(o, "event", ""); //$NON-NLS-1$ //$NON-NLS-2$
        if (type == LibHprobe.REC_PROBE) {
            vm.applyProbeChange(data);
        } else if (type == LibHprobe.REC_ALERT) {
            vm.addAlert(data, rec.getLong(LibHprobe.REC_TIME));
        } else if ("DETECTOR_STATE".equals(event)) { //$NON-NLS-1$
            vm.applyDetectorState(data);
        } else if ("IP_NAME".equals(event)) { //$NON-NLS-1$
            String name = Json.strOrNull(data, "name"); //$NON-NLS-1$
            String ip = Json.strOrNull(data, "ip"); //$NON-NLS-1$
            if (name != null && ip != null && ip.startsWith("0x")) { //$NON-NLS-1$
                long addr = Json.parseAddr(ip, 0);
                if (addr != 0) {
                    vm.nameAddress(addr, name);
                }
            }
        }
    }

    private static @Nullable JsonObject parse(String s) {
        try {
            JsonElement e = JsonParser.parseString(s);
            return e instanceof JsonObject o ? o : null;
        } catch (JsonParseException e) {
            return null;
        }
    }

    /**
     * Exports through libhprobe's exporters. The output appears only when complete (libhprobe writes a
     * ".partial" and renames), so a failed or cancelled export leaves nothing behind.
     */
    public static Outcome<ExportStats> export(ExportRequest req, ProgressSink progress) {
        if (!LibHprobe.load()) {
            return Outcome.failed(unavailableReason());
        }
        Memory err = new Memory(LibHprobe.ERR_SIZE);
        err.clear();
        Memory stats = new Memory(16);
        stats.clear();
        Memory filter = new Memory(LibHprobe.FILTER_SIZE);
        filter.clear();
        Memory probes = ints(req.probes().stream().mapToInt(Integer::intValue).toArray());
        Memory pids = ints(req.processes().stream().mapToInt(Integer::intValue).toArray());
        if (probes != null) {
            filter.setPointer(0, probes);
            filter.setLong(8, req.probes().size());
        }
        if (pids != null) {
            filter.setPointer(16, pids);
            filter.setLong(24, req.processes().size());
        }
        filter.setLong(32, Math.max(0, req.fromNs()));
        filter.setLong(40, Math.max(0, req.toNs()));
        LibHprobe.ProgressFn fn = (done, total, ud) -> {
            progress.progress(done, total);
            return progress.isCancelled() ? 1 : 0;
        };
        int rc = LibHprobe.hp_export__journal(req.journal().toString(), req.format().code(), req.out().toString(),
                filter, fn, null, stats, err);
        // keep the callback and the filter's arrays reachable until the native call is over
        java.lang.ref.Reference.reachabilityFence(fn);
        java.lang.ref.Reference.reachabilityFence(probes);
        java.lang.ref.Reference.reachabilityFence(pids);
        if (rc == -125 /* -ECANCELED */ || progress.isCancelled() && rc < 0) {
            return Outcome.cancelled(req.out().toString());
        }
        if (rc < 0) {
            String msg = LibHprobe.errText(err);
            return Outcome.failed(msg.isEmpty() ? "export failed: error " + -rc : msg); //$NON-NLS-1$
        }
        ExportStats s = new ExportStats(stats.getLong(0), stats.getLong(8));
        return Outcome.ok(s, s.hitsWritten() + " hits"); //$NON-NLS-1$
    }

    private static @Nullable Memory ints(int[] values) {
        if (values.length == 0) {
            return null;
        }
        Memory m = new Memory(4L * values.length);
        m.write(0, values, 0, values.length);
        return m;
    }
}
