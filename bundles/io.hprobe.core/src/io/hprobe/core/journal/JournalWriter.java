package io.hprobe.core.journal;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

import com.sun.jna.Memory;
import com.sun.jna.Pointer;
import com.sun.jna.ptr.LongByReference;
import com.sun.jna.ptr.PointerByReference;

/**
 * Writes journals through libhprobe: for tests and benchmarks that need a journal with known contents
 * (the agent is the only writer in real use).
 */
public final class JournalWriter implements AutoCloseable {

    private final Pointer writer;
    private final Memory hit = new Memory(LibHprobe.HIT_SIZE);
    private final LongByReference seq = new LongByReference();

    private JournalWriter(Pointer writer) {
        this.writer = writer;
    }

    public static JournalWriter create(Path path, String vmName, long monoBaseNs) throws JournalException {
        if (!LibHprobe.load()) {
            throw new JournalException(Journals.unavailableReason());
        }
        Memory meta = new Memory(LibHprobe.META_SIZE);
        meta.clear();
        putString(meta, LibHprobe.META_SESSION, "test-" + vmName, 64); //$NON-NLS-1$
        putString(meta, LibHprobe.META_VM, vmName, 64);
        putString(meta, LibHprobe.META_KERNEL, "6.1.0-test", 128); //$NON-NLS-1$
        meta.setLong(LibHprobe.META_CREATED, System.currentTimeMillis() * 1_000_000L);
        meta.setLong(LibHprobe.META_MONO_BASE, monoBaseNs);
        Memory err = new Memory(LibHprobe.ERR_SIZE);
        err.clear();
        PointerByReference out = new PointerByReference();
        int rc = LibHprobe.hp_journal__create(path.toString(), meta, 0, out, err);
        if (rc < 0) {
            throw new JournalException(path + ": " + LibHprobe.errText(err)); //$NON-NLS-1$
        }
        return new JournalWriter(out.getValue());
    }

    private static void putString(Memory m, long off, String s, int max) {
        byte[] b = s.getBytes(StandardCharsets.UTF_8);
        m.write(off, b, 0, Math.min(b.length, max - 1));
    }

    /** Appends a hit with task info; returns its seq. */
    public long hit(long timeNs, int probe, int vcpu, int pid, int tgid, String comm, long ip, boolean user,
            long... args) throws JournalException {
        task(timeNs, probe, vcpu, pid, tgid, comm, ip, LibHprobe.HIT_TASK | (user ? LibHprobe.HIT_USER : 0));
        int n = Math.min(args.length, 6);
        hit.setByte(LibHprobe.HIT_NARGS, (byte) n);
        for (int i = 0; i < n; i++) {
            hit.setLong(LibHprobe.HIT_ARGS + 8L * i, args[i]);
        }
        return append();
    }

    /** Appends a return probe's hit (retval and latency, as hp_journal__append_hit takes it); returns its seq. */
    public long returnHit(long timeNs, int probe, int vcpu, int pid, int tgid, String comm, long ip, long retval,
            long latencyNs) throws JournalException {
        task(timeNs, probe, vcpu, pid, tgid, comm, ip, LibHprobe.HIT_TASK | LibHprobe.HIT_RET);
        hit.setLong(LibHprobe.HIT_RETVAL, retval);
        hit.setLong(LibHprobe.HIT_LATENCY, latencyNs);
        return append();
    }

    /** A cleared hit with its time, probe, vCPU, task, ip and flags. */
    private void task(long timeNs, int probe, int vcpu, int pid, int tgid, String comm, long ip, int flags) {
        hit.clear();
        hit.setLong(LibHprobe.HIT_TIME, timeNs);
        hit.setInt(LibHprobe.HIT_PROBE, probe);
        hit.setInt(LibHprobe.HIT_VCPU, vcpu);
        hit.setInt(LibHprobe.HIT_PID, pid);
        hit.setInt(LibHprobe.HIT_TGID, tgid);
        putString(hit, LibHprobe.HIT_COMM, comm, 17);
        hit.setLong(LibHprobe.HIT_IP, ip);
        hit.setInt(LibHprobe.HIT_FLAGS, flags);
    }

    private long append() throws JournalException {
        int rc = LibHprobe.hp_journal__append_hit(writer, hit, seq);
        if (rc < 0) {
            throw new JournalException("append_hit: error " + -rc); //$NON-NLS-1$
        }
        return seq.getValue();
    }

    /** Appends a PROBE (2), EVENT (3) or ALERT (4) record of JSON text. */
    public long json(int type, long timeNs, String json) throws JournalException {
        int rc = LibHprobe.hp_journal__append_json(writer, type, timeNs, json,
                json.getBytes(StandardCharsets.UTF_8).length, seq);
        if (rc < 0) {
            throw new JournalException("append_json: error " + -rc); //$NON-NLS-1$
        }
        return seq.getValue();
    }

    @Override
    public void close() throws JournalException {
        Memory err = new Memory(LibHprobe.ERR_SIZE);
        err.clear();
        int rc = LibHprobe.hp_journal__close(writer, err);
        if (rc < 0) {
            throw new JournalException("close: " + LibHprobe.errText(err)); //$NON-NLS-1$
        }
    }
}
