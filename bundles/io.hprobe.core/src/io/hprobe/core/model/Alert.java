package io.hprobe.core.model;

import org.eclipse.jdt.annotation.Nullable;

import com.google.gson.JsonObject;

import io.hprobe.core.protocol.Json;

/**
 * A detector alert (ALERT event or journal ALERT record).
 *
 * @param timeNs   host monotonic ns, the hits' clock, so an alert can be placed on the timeline
 * @param what     the alert's name as the detector gives it ("exploit-attempt", "no-heartbeat", ...)
 * @param seq      journal seq of the hit that caused it, -1 if not given
 * @param data     the whole alert object, for the details
 */
public record Alert(long timeNs, int detector, String kind, String what, int pid, @Nullable String comm, long seq,
        JsonObject data) {

    static Alert fromJson(JsonObject o, long fallbackTimeNs) {
        return new Alert(Json.lng(o, "time_ns", fallbackTimeNs), Json.integer(o, "detector", 0), //$NON-NLS-1$ //$NON-NLS-2$
                Json.str(o, "kind", "?"), Json.str(o, "alert", "alert"), Json.integer(o, "pid", -1), //$NON-NLS-1$ //$NON-NLS-2$ //$NON-NLS-3$ //$NON-NLS-4$ //$NON-NLS-5$
                Json.strOrNull(o, "comm"), Json.lng(o, "seq", -1), o.deepCopy()); //$NON-NLS-1$ //$NON-NLS-2$
    }
}
