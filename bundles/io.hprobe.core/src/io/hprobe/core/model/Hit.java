package io.hprobe.core.model;

/**
 * One probe hit, a row of the {@link HitStore} materialised for display. The store keeps hits in primitive
 * columns; this record exists only for the rows a view asks for.
 *
 * @param seq       record number in the VM's journal
 * @param args      captured arguments as unsigned 64-bit patterns (print with Long.toUnsignedString)
 * @param retval    a return probe's return value (rax), else 0
 * @param latencyNs a return probe's time from the call to the return, else {@link HitStore#NO_LATENCY}
 */
public record Hit(long seq, int probe, int vcpu, long timeNs, int pid, int tgid, String comm, long ip, boolean user,
        boolean blocked, long[] args, long retval, long latencyNs) {

    /** Whether this is a return probe's hit (retval and latencyNs hold). */
    public boolean isReturn() {
        return latencyNs >= 0;
    }
}
