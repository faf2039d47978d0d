package io.hprobe.core.journal;

/**
 * A journal's header.
 *
 * @param createdNs  CLOCK_REALTIME at creation, for display
 * @param monoBaseNs CLOCK_MONOTONIC at creation: hit time_ns minus this is the time since the start
 */
public record JournalMeta(String session, String vmName, String kernel, long createdNs, long monoBaseNs) {
}
