package io.hprobe.core.model;

import com.google.gson.JsonObject;

import io.hprobe.core.protocol.Json;

/**
 * A detector instance, generic over its kind: the agent defines kinds ("emergency", "watchdog", "loop", ...)
 * and their JSON config and state, so a new kind needs no change here.
 *
 * @param state the latest live state (detector-list "state" or a DETECTOR_STATE event), {} until known
 * @param enabled false while disabled: its configuration and state kept, its probes out of the guest
 */
public record Detector(int id, String kind, JsonObject config, JsonObject state, long alerts, boolean enabled) {

    static Detector fromJson(JsonObject o) {
        return new Detector(Json.integer(o, "id", 0), Json.str(o, "kind", "?"), Json.obj(o, "config").deepCopy(), //$NON-NLS-1$ //$NON-NLS-2$ //$NON-NLS-3$ //$NON-NLS-4$
                Json.obj(o, "state").deepCopy(), Json.lng(o, "alerts", 0), Json.bool(o, "enabled", true)); //$NON-NLS-1$ //$NON-NLS-2$ //$NON-NLS-3$
    }

    Detector withState(JsonObject newState) {
        JsonObject s = newState.deepCopy();
        s.remove("id"); //$NON-NLS-1$
        s.remove("kind"); //$NON-NLS-1$
        return new Detector(id, kind, config, s, Json.lng(newState, "alerts", alerts), enabled); //$NON-NLS-1$
    }
}
