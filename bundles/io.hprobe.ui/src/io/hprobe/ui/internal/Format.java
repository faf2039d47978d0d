package io.hprobe.ui.internal;

import java.util.Locale;

import org.eclipse.jdt.annotation.Nullable;
import org.eclipse.osgi.util.NLS;

import io.hprobe.core.model.Vm;
import io.hprobe.core.model.VmSource;
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

    /** A duration as people read it: "850 ns", "12.3 µs", "4.56 ms", "1.23 s" (three digits). */
    public static String duration(long ns) {
        if (ns < 1000) {
            return ns + " ns"; //$NON-NLS-1$
        }
        double v = ns;
        String[] units = { "µs", "ms", "s" }; //$NON-NLS-1$ //$NON-NLS-2$ //$NON-NLS-3$
        int u = -1;
        while (u < units.length - 1 && v >= 1000) {
            v /= 1000;
            u++;
        }
        return String.format(Locale.ROOT, v >= 100 ? "%.0f %s" : v >= 10 ? "%.1f %s" : "%.2f %s", v, units[u]); //$NON-NLS-1$ //$NON-NLS-2$ //$NON-NLS-3$
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

    /** Where a VM comes from: the lab, the user's own guest, a QMP socket, a libvirt domain. */
    public static String source(Vm vm) {
        VmSource s = vm.info().source();
        String text;
        switch (s.kind()) {
            case VmSource.LAB :
                text = Messages.VmBrowser_sourceLab;
                break;
            case VmSource.OWN :
                text = Messages.VmBrowser_sourceOwn;
                break;
            case VmSource.QMP :
                text = NLS.bind(Messages.VmBrowser_sourceQmp, orEmpty(s.path()));
                break;
            case VmSource.LIBVIRT :
                text = NLS.bind(Messages.VmBrowser_sourceLibvirt, orEmpty(s.uri()), orEmpty(s.domain()));
                break;
            default :
                return s.kind();
        }
        return s.pid() > 0 ? NLS.bind(Messages.VmBrowser_sourcePid, text, Long.toString(s.pid())) : text;
    }

    private static String orEmpty(@Nullable String s) {
        return s == null ? "" : s; //$NON-NLS-1$
    }
}
