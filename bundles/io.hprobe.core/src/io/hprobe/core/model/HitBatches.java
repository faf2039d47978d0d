package io.hprobe.core.model;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonPrimitive;

import io.hprobe.core.protocol.Json;

/** HITS event batches into a VM's hit store. */
final class HitBatches {

    private HitBatches() {
    }

    /**
     * Appends the hits of one batch, in order; hits the store already holds (a resumed subscription
     * replays from the journal) are skipped. Arguments are unsigned 64-bit: parsed from the literal.
     */
    static void append(Vm vm, JsonArray hits) {
        HitStore store = vm.hits();
        long last = store.lastSeq();
        long[] args = new long[6];
        int appended = 0;
        for (JsonElement el : hits) {
            if (!(el instanceof JsonObject h)) {
                continue;
            }
            long seq = Json.lng(h, "seq", -1); //$NON-NLS-1$
            if (seq <= last) {
                continue;
            }
            int n = 0;
            JsonElement a = h.get("args"); //$NON-NLS-1$
            if (a instanceof JsonArray arr) {
                for (JsonElement v : arr) {
                    if (n < args.length && v instanceof JsonPrimitive p) {
                        args[n++] = Json.parseUnsigned(p.getAsString(), 0);
                    }
                }
            }
            store.append(seq, Json.integer(h, "probe", 0), Json.integer(h, "vcpu", 0), Json.lng(h, "time_ns", 0), //$NON-NLS-1$ //$NON-NLS-2$ //$NON-NLS-3$
                    Json.integer(h, "pid", -1), Json.integer(h, "tgid", -1), Json.str(h, "comm", ""), //$NON-NLS-1$ //$NON-NLS-2$ //$NON-NLS-3$ //$NON-NLS-4$
                    Json.addr(h, "ip", 0), Json.bool(h, "user", false), Json.bool(h, "blocked", false), args, n, //$NON-NLS-1$ //$NON-NLS-2$ //$NON-NLS-3$
                    Json.lng(h, "retval", 0), h.has("latency_ns") ? Json.lng(h, "latency_ns", 0) : HitStore.NO_LATENCY); //$NON-NLS-1$ //$NON-NLS-2$ //$NON-NLS-3$
            last = seq;
            appended++;
        }
        if (appended > 0) {
            vm.hitsAppended();
        }
    }
}
