package io.hprobe.core.timeline;

/** What a timeline lane stands for. */
public enum LaneMode {
    /** one lane per probe */
    PROBE,
    /** one lane per guest process (tgid, else pid) */
    PROCESS,
}
