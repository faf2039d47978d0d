package io.hprobe.core.model;

import java.util.ArrayList;
import java.util.List;

import org.eclipse.jdt.annotation.Nullable;

import com.google.gson.JsonObject;

import io.hprobe.core.protocol.Json;

/**
 * A VM's counters that the journal cannot show (vm-stats, docs/protocol.md): records journalled and hits
 * dropped, and the in-QEMU tier's own counters since the VM started (null without that tier).
 */
public record VmStats(long records, long dropped, @Nullable Tier tier) {

    /** The in-QEMU tier's counters, as its plugin keeps them. */
    public record Tier(long hits, long dropped, long filtered, long readErrors, long taskCached,
            long reinstrumentations, long sites, long probes) {
    }

    /** One counter in words. */
    public record Row(String label, long value, String meaning) {
    }

    static VmStats fromJson(JsonObject o) {
        JsonObject p = o.get("plugin") instanceof JsonObject x ? x : null; //$NON-NLS-1$
        return new VmStats(Json.lng(o, "records", 0), Json.lng(o, "dropped", 0), //$NON-NLS-1$ //$NON-NLS-2$
                p == null
                        ? null
                        : new Tier(Json.lng(p, "hits", 0), Json.lng(p, "dropped", 0), Json.lng(p, "filtered", 0), //$NON-NLS-1$ //$NON-NLS-2$ //$NON-NLS-3$
                                Json.lng(p, "read_errors", 0), Json.lng(p, "task_cached", 0), //$NON-NLS-1$ //$NON-NLS-2$
                                Json.lng(p, "reinstrumentations", 0), Json.lng(p, "sites", 0), //$NON-NLS-1$ //$NON-NLS-2$
                                Json.lng(p, "probes", 0))); //$NON-NLS-1$
    }

    /** Every counter with its label and what it counts, the tier's after the journal's. */
    public List<Row> rows() {
        List<Row> out = new ArrayList<>();
        out.add(new Row("Records journalled", records, "hits and events written to the VM's journal")); //$NON-NLS-1$ //$NON-NLS-2$
        out.add(new Row("Hits dropped", dropped, "hits lost before the journal (a full ring or queue)")); //$NON-NLS-1$ //$NON-NLS-2$
        Tier t = tier;
        if (t != null) {
            out.add(new Row("In-QEMU hits", t.hits(), "records the plugin wrote to its ring")); //$NON-NLS-1$ //$NON-NLS-2$
            out.add(new Row("In-QEMU drops", t.dropped(), "hits lost to a full ring")); //$NON-NLS-1$ //$NON-NLS-2$
            out.add(new Row("Filtered out", t.filtered(), "hits refused by a pid, comm or --if filter")); //$NON-NLS-1$ //$NON-NLS-2$
            out.add(new Row("Read errors", t.readErrors(), "guest reads that failed (task, arguments or memory)")); //$NON-NLS-1$ //$NON-NLS-2$
            out.add(new Row("Task from cache", t.taskCached(), //$NON-NLS-1$
                    "hits that took the current task from the vCPU's cache")); //$NON-NLS-1$
            out.add(new Row("Re-instrumentations", t.reinstrumentations(), //$NON-NLS-1$
                    "plan changes, each flushing QEMU's translated code")); //$NON-NLS-1$
            out.add(new Row("Sites", t.sites(), "guest addresses instrumented")); //$NON-NLS-1$ //$NON-NLS-2$
            out.add(new Row("Probes in the plan", t.probes(), "probes the in-QEMU tier runs")); //$NON-NLS-1$ //$NON-NLS-2$
        }
        return List.copyOf(out);
    }
}
