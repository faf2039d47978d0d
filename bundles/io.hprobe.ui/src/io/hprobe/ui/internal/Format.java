package io.hprobe.ui.internal;

import java.util.Locale;

import io.hprobe.core.model.Vm;
import io.hprobe.ui.Messages;

/** How times, addresses and sizes read across the views. */
public final class Format {

    private Format() {
    }

    /** Seconds since the VM's time origin, with microseconds. */
    public static String time(Vm vm, long timeNs) {
        long origin = vm.timeOriginNs();
        return seconds(origin == Long.MIN_VALUE ? 0 : timeNs - origin);
    }

    public static String seconds(long ns) {
        return String.format(Locale.ROOT, "%.6f", ns / 1e9); //$NON-NLS-1$
    }

    /** A pid or tgid; a hit whose task could not be identified says so (the agent sends null). */
    public static String task(int id) {
        return id < 0 ? Messages.Hits_taskUnknown : Integer.toString(id);
    }

    public static String hex(long v) {
        return "0x" + Long.toHexString(v); //$NON-NLS-1$
    }

    /** Arguments as the users read them: small ones in decimal, pointer-like ones in hex. */
    public static String args(long[] args) {
        StringBuilder b = new StringBuilder();
        for (long a : args) {
            b.append(b.length() > 0 ? ", " : ""); //$NON-NLS-1$ //$NON-NLS-2$
            b.append(Long.compareUnsigned(a, 0x10000) < 0 ? Long.toUnsignedString(a) : hex(a));
        }
        return b.toString();
    }
}
