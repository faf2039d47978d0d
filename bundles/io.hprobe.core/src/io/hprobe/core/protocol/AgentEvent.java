package io.hprobe.core.protocol;

import org.eclipse.jdt.annotation.Nullable;

import com.google.gson.JsonObject;

/**
 * One asynchronous message: {"event": name, "vm": ..., "data": {...}, "timestamp": {...}}.
 *
 * @param name      HITS, HITS_LAGGING, VM_STATE, PROBE, ALERT, DETECTOR, DETECTOR_STATE, CONSOLE, ...
 * @param vm        the VM it is about, or null
 * @param data      the event's data (an empty object when absent)
 * @param timeMicros host CLOCK_REALTIME of the event in microseconds, 0 when absent
 */
public record AgentEvent(String name, @Nullable String vm, JsonObject data, long timeMicros) {
}
