package io.hprobe.core.model;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import org.eclipse.jdt.annotation.Nullable;

/**
 * The hits of one VM in memory: primitive columns in fixed-size chunks, about 50 bytes a hit plus 8 per
 * captured argument, so a million hits take some 60 MB instead of the ~400 MB of one object each.
 * <p>
 * One writer (the connection's reader thread or an offline loader) appends; any thread reads. A row is
 * published by the volatile {@link #size()} after its columns are written. Memory is bounded: past
 * {@link #capacity()} the oldest chunk is dropped, and indexes stay absolute ({@link #first()} moves up).
 * Details a hit rarely needs (registers, memory) stay in the journal and are read on demand.
 */
public final class HitStore {

    static final int CHUNK_BITS = 16;
    static final int CHUNK = 1 << CHUNK_BITS;
    private static final int MASK = CHUNK - 1;

    /** Default bound: two million hits, about 120 MB. */
    public static final long DEFAULT_CAPACITY = 2_000_000;

    private static final class Chunk {

        final long[] seq = new long[CHUNK];
        final long[] time = new long[CHUNK];
        final long[] ip = new long[CHUNK];
        final int[] probe = new int[CHUNK];
        final int[] pid = new int[CHUNK];
        final int[] tgid = new int[CHUNK];
        final int[] comm = new int[CHUNK];
        /** vcpu << 8 | flags (bit 0 user, bit 1 blocked) */
        final int[] vcpuFlags = new int[CHUNK];
        /** start of the row's args in argv; the row's count is argStart[i+1]-argStart[i] (or argc for the last) */
        final int[] argStart = new int[CHUNK + 1];
        long[] argv = new long[CHUNK];
        int argc;
        /** a return probe's hits: return value and latency (-1 for other rows); made at a chunk's first */
        long @Nullable [] retval;
        long @Nullable [] latency;
    }

    /** {@link #latency(long)} of a hit that is not a return probe's. */
    public static final long NO_LATENCY = -1;

    private final long capacity;
    private final Object writeLock = new Object();
    /** chunks and the absolute index of chunks[0]'s first row, swapped together so readers see a pair */
    private record Layout(Chunk[] chunks, long base) {
    }

    private volatile Layout layout = new Layout(new Chunk[0], 0);
    private volatile long size;
    private volatile boolean timeSorted = true;
    private long lastTime = Long.MIN_VALUE;
    private long lastSeq = -1;
    private final List<String> comms = new ArrayList<>();
    private final Map<String, Integer> commIds = new HashMap<>();
    private final Map<Integer, long[]> perProbe = new HashMap<>();
    private final Map<Integer, long[]> perPid = new HashMap<>();
    /** the last comm id seen per process: lane labels without scanning */
    private final Map<Integer, Integer> lastComm = new HashMap<>();

    public HitStore() {
        this(DEFAULT_CAPACITY);
    }

    /** @param capacity hits kept in memory, rounded up to whole chunks of 65536 */
    public HitStore(long capacity) {
        this.capacity = Math.max(CHUNK, capacity);
    }

    /** Appends one hit that is not a return probe's (writer thread only). */
    public void append(long seq, int probe, int vcpu, long timeNs, int pid, int tgid, String comm, long ip,
            boolean user, boolean blocked, long[] args, int nargs) {
        append(seq, probe, vcpu, timeNs, pid, tgid, comm, ip, user, blocked, args, nargs, 0, NO_LATENCY);
    }

    /**
     * Appends one hit (writer thread only).
     *
     * @param latencyNs a return probe's time from the call to the return, or {@link #NO_LATENCY}
     */
    public void append(long seq, int probe, int vcpu, long timeNs, int pid, int tgid, String comm, long ip,
            boolean user, boolean blocked, long[] args, int nargs, long retval, long latencyNs) {
        synchronized (writeLock) {
            long n = size;
            Layout l = layout;
            int ci = (int) ((n - l.base) >>> CHUNK_BITS);
            if (ci >= l.chunks.length) {
                l = grow(l);
                ci = (int) ((n - l.base) >>> CHUNK_BITS);
            }
            Chunk c = l.chunks[ci];
            int i = (int) ((n - l.base) & MASK);
            c.seq[i] = seq;
            c.time[i] = timeNs;
            c.ip[i] = ip;
            c.probe[i] = probe;
            c.pid[i] = pid;
            c.tgid[i] = tgid;
            c.comm[i] = commId(comm);
            c.vcpuFlags[i] = vcpu << 8 | (user ? 1 : 0) | (blocked ? 2 : 0);
            int k = Math.min(nargs, args.length);
            if (c.argc + k > c.argv.length) {
                c.argv = Arrays.copyOf(c.argv, Math.max(c.argv.length * 2, c.argc + k));
            }
            c.argStart[i] = c.argc;
            System.arraycopy(args, 0, c.argv, c.argc, k);
            c.argc += k;
            c.argStart[i + 1] = c.argc;
            long[] lat = c.latency, ret = c.retval;
            if (latencyNs >= 0 && (lat == null || ret == null)) {
                lat = new long[CHUNK];
                Arrays.fill(lat, NO_LATENCY);
                ret = new long[CHUNK];
                c.latency = lat;
                c.retval = ret;
            }
            if (lat != null && ret != null) {
                lat[i] = latencyNs >= 0 ? latencyNs : NO_LATENCY;
                ret[i] = retval;
            }
            if (timeNs < lastTime) {
                timeSorted = false;
            }
            lastTime = Math.max(lastTime, timeNs);
            lastSeq = Math.max(lastSeq, seq);
            count(perProbe, probe, timeNs);
            count(perPid, tgid >= 0 ? tgid : pid, timeNs);
            lastComm.put(tgid >= 0 ? tgid : pid, c.comm[i]);
            size = n + 1; // publishes the row
        }
    }

    private static void count(Map<Integer, long[]> m, int key, long t) {
        long[] c = m.computeIfAbsent(key, x -> new long[]{ 0, t, t });
        c[0]++;
        c[1] = Math.min(c[1], t);
        c[2] = Math.max(c[2], t);
    }

    private Layout grow(Layout l) {
        Chunk[] cs = l.chunks;
        Layout next;
        if ((long) cs.length * CHUNK >= capacity && cs.length > 0) {
            // bounded memory: drop the oldest chunk; readers holding old indexes see them as gone
            Chunk[] c = Arrays.copyOfRange(cs, 1, cs.length + 1);
            c[c.length - 1] = new Chunk();
            next = new Layout(c, l.base + CHUNK);
        } else {
            Chunk[] c = Arrays.copyOf(cs, cs.length + 1);
            c[c.length - 1] = new Chunk();
            next = new Layout(c, l.base);
        }
        layout = next;
        return next;
    }

    private int commId(String comm) {
        Integer id = commIds.get(comm);
        if (id == null) {
            synchronized (comms) {
                id = comms.size();
                comms.add(comm);
            }
            commIds.put(comm, id);
        }
        return id;
    }

    /** One past the last index. */
    public long size() {
        return size;
    }

    /** The first index still in memory (0 until the capacity was passed). */
    public long first() {
        return layout.base;
    }

    /** Rows in memory. */
    public long count() {
        return size - layout.base;
    }

    public long capacity() {
        return capacity;
    }

    /** Whether times never went backwards in append order (then time searches can bisect). */
    public boolean isTimeSorted() {
        return timeSorted;
    }

    /** The highest journal seq appended, -1 if none: where a resumed subscription goes on from. */
    public long lastSeq() {
        synchronized (writeLock) {
            return lastSeq;
        }
    }

    private Chunk chunk(Layout l, long index) {
        if (index < l.base || index >= size) {
            throw new IndexOutOfBoundsException(index + " not in [" + l.base + ", " + size + ")"); //$NON-NLS-1$ //$NON-NLS-2$ //$NON-NLS-3$
        }
        return l.chunks[(int) ((index - l.base) >>> CHUNK_BITS)];
    }

    private static int slot(Layout l, long index) {
        return (int) ((index - l.base) & MASK);
    }

    public long time(long index) {
        Layout l = layout;
        return chunk(l, index).time[slot(l, index)];
    }

    public int probe(long index) {
        Layout l = layout;
        return chunk(l, index).probe[slot(l, index)];
    }

    public int pid(long index) {
        Layout l = layout;
        return chunk(l, index).pid[slot(l, index)];
    }

    public int tgid(long index) {
        Layout l = layout;
        return chunk(l, index).tgid[slot(l, index)];
    }

    public long seq(long index) {
        Layout l = layout;
        return chunk(l, index).seq[slot(l, index)];
    }

    /** A return probe's latency in ns, or {@link #NO_LATENCY} for other hits. */
    public long latency(long index) {
        Layout l = layout;
        long[] lat = chunk(l, index).latency;
        return lat == null ? NO_LATENCY : lat[slot(l, index)];
    }

    /** A return probe's return value (rax), 0 for other hits. */
    public long retval(long index) {
        Layout l = layout;
        long[] ret = chunk(l, index).retval;
        return ret == null ? 0 : ret[slot(l, index)];
    }

    /** Interned comm id (see {@link #commName(int)}), for cheap grouping. */
    public int commId(long index) {
        Layout l = layout;
        return chunk(l, index).comm[slot(l, index)];
    }

    public String commName(int id) {
        synchronized (comms) {
            return id >= 0 && id < comms.size() ? comms.get(id) : "?"; //$NON-NLS-1$
        }
    }

    /** Receives rows of a {@link HitStore#scan} without materialising them. */
    @FunctionalInterface
    public interface RowVisitor {

        void row(long index, long timeNs, int probe, int pid, int tgid);
    }

    /** Visits rows [from, to) straight from the columns: the fast path for aggregation over millions. */
    public void scan(long from, long to, RowVisitor v) {
        Layout l = layout;
        long lo = Math.max(from, l.base);
        long hi = Math.min(to, size);
        for (long i = lo; i < hi;) {
            Chunk c = l.chunks[(int) ((i - l.base) >>> CHUNK_BITS)];
            int s0 = (int) ((i - l.base) & MASK);
            int s1 = (int) Math.min(CHUNK, s0 + (hi - i));
            long[] time = c.time;
            int[] probe = c.probe, pid = c.pid, tgid = c.tgid;
            for (int k = s0; k < s1; k++) {
                v.row(i + (k - s0), time[k], probe[k], pid[k], tgid[k]);
            }
            i += s1 - s0;
        }
    }

    /** The row as a record. */
    public Hit get(long index) {
        Layout l = layout;
        Chunk c = chunk(l, index);
        int i = slot(l, index);
        int vf = c.vcpuFlags[i];
        long[] args = Arrays.copyOfRange(c.argv, c.argStart[i], c.argStart[i + 1]);
        long[] lat = c.latency, ret = c.retval;
        return new Hit(c.seq[i], c.probe[i], vf >>> 8, c.time[i], c.pid[i], c.tgid[i], commName(c.comm[i]), c.ip[i],
                (vf & 1) != 0, (vf & 2) != 0, args, ret == null ? 0 : ret[i], lat == null ? NO_LATENCY : lat[i]);
    }

    /** The first index whose time is >= t (bisects when sorted, else scans). */
    public long lowerBound(long t) {
        long lo = layout.base, hi = size;
        if (!timeSorted) {
            for (long i = lo; i < hi; i++) {
                if (time(i) >= t) {
                    return i;
                }
            }
            return hi;
        }
        while (lo < hi) {
            long mid = (lo + hi) >>> 1;
            if (time(mid) < t) {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        return lo;
    }

    /** Index of the row with this journal seq, or -1 (seqs grow with the index, so it bisects). */
    public long indexOfSeq(long seq) {
        long lo = layout.base, hi = size - 1;
        while (lo <= hi) {
            long mid = (lo + hi) >>> 1;
            long s = seq(mid);
            if (s < seq) {
                lo = mid + 1;
            } else if (s > seq) {
                hi = mid - 1;
            } else {
                return mid;
            }
        }
        return -1;
    }

    /** Hits per probe id since the start (not reduced by eviction): {count, first time, last time}. */
    public Map<Integer, long[]> perProbe() {
        return snapshot(perProbe);
    }

    /** Hits per process (tgid, else pid) since the start: {count, first time, last time}. */
    public Map<Integer, long[]> perProcess() {
        return snapshot(perPid);
    }

    private Map<Integer, long[]> snapshot(Map<Integer, long[]> m) {
        synchronized (writeLock) {
            Map<Integer, long[]> out = new HashMap<>();
            m.forEach((k, v) -> out.put(k, v.clone()));
            return out;
        }
    }

    /** The last comm seen for a process (tgid, else pid), for lane labels; "?" if none. */
    public String commOf(int process) {
        Integer id;
        synchronized (writeLock) {
            id = lastComm.get(process);
        }
        return id == null ? "?" : commName(id); //$NON-NLS-1$
    }

    /** Drops every row (a new session in the same VM object). */
    public void clear() {
        synchronized (writeLock) {
            size = 0;
            layout = new Layout(new Chunk[0], 0);
            timeSorted = true;
            lastTime = Long.MIN_VALUE;
            lastSeq = -1;
            perProbe.clear();
            perPid.clear();
            lastComm.clear();
        }
    }
}
