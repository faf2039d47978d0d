package io.hprobe.core.journal;

import java.nio.file.Files;
import java.nio.file.Path;

import org.eclipse.jdt.annotation.Nullable;

import com.sun.jna.Callback;
import com.sun.jna.Memory;
import com.sun.jna.Native;
import com.sun.jna.NativeLibrary;
import com.sun.jna.Pointer;
import com.sun.jna.ptr.LongByReference;
import com.sun.jna.ptr.PointerByReference;

/**
 * JNA direct mapping of the parts of libhprobe the workbench uses (native/lib/include/hprobe/journal.h,
 * export.h and hit.h). Direct mapping, not an interface proxy: offline loading calls hp_journal__next once
 * per record, millions of times.
 * <p>
 * Structs are not mapped as JNA Structures: records are read from one reused buffer at the offsets below,
 * which were checked against offsetof() on x86_64 (LP64). size_t is a Java long there. Loading checks the
 * sizes the library reports (hp_record__size, hp_journal_meta__size) against these.
 */
final class LibHprobe {

    // struct hp_record (608 bytes)
    static final int REC_SIZE = 608;
    static final int REC_SEQ = 0;
    static final int REC_TYPE = 8;
    static final int REC_TIME = 16;
    static final int REC_U = 24;
    static final int REC_JSON = 592;
    static final int REC_JSON_LEN = 600;
    // struct hp_hit, at REC_U (568 bytes)
    static final int HIT_SIZE = 568;
    static final int HIT_TIME = 0;
    static final int HIT_PROBE = 8;
    static final int HIT_VCPU = 12;
    static final int HIT_PID = 16;
    static final int HIT_TGID = 20;
    static final int HIT_COMM = 24;
    static final int HIT_IP = 40;
    static final int HIT_FLAGS = 56;
    static final int HIT_NARGS = 60;
    static final int HIT_ARGS = 64;
    static final int HIT_MEMLEN = 280;
    static final int HIT_RETVAL = 552;
    static final int HIT_LATENCY = 560;
    // struct hp_count, at REC_U
    static final int COUNT_PROBE = 0;
    static final int COUNT_COUNT = 8;
    // struct hp_journal_meta (272 bytes)
    static final int META_SIZE = 272;
    static final int META_SESSION = 0;
    static final int META_VM = 64;
    static final int META_KERNEL = 128;
    static final int META_CREATED = 256;
    static final int META_MONO_BASE = 264;
    // struct hp_hit_field (40 bytes), HP_HF_COUNT of them from hp_hit__fields()
    static final int HF_SIZE = 40;
    static final int HF_NAME = 0;
    static final int HF_TYPE = 8;
    static final int HF_IN = 12;
    static final int HF_OPTIONAL = 16;
    static final int HF_TITLE = 24;
    static final int HF_DOC = 32;
    static final int HF_IN_STREAM = 0x1;
    static final int HF_IN_EXPORT = 0x2;
    // struct hp_export_filter (48 bytes)
    static final int FILTER_SIZE = 48;
    // struct hp_err
    static final int ERR_SIZE = 256;

    static final int REC_HIT = 1;
    static final int REC_PROBE = 2;
    static final int REC_EVENT = 3;
    static final int REC_ALERT = 4;
    static final int REC_DROPPED = 5;
    static final int REC_COUNT = 6;

    static final int HIT_USER = 0x01;
    static final int HIT_TASK = 0x04;
    static final int HIT_BLOCKED = 0x08;
    static final int HIT_RET = 0x20;

    /** Progress of hp_export__journal: non-zero cancels. */
    interface ProgressFn extends Callback {

        int invoke(long doneBytes, long totalBytes, @Nullable Pointer ud);
    }

    private static @Nullable String loadError;
    private static boolean loaded;

    private LibHprobe() {
    }

    /**
     * Where libhprobe.so is: -Dhprobe.libhprobe, else $HPROBE_LIBHPROBE, else null (then JNA searches
     * jna.library.path and the system for "hprobe").
     */
    static @Nullable Path configuredPath() {
        String p = System.getProperty("hprobe.libhprobe"); //$NON-NLS-1$
        if (p == null || p.isBlank()) {
            p = System.getenv("HPROBE_LIBHPROBE"); //$NON-NLS-1$
        }
        return p == null || p.isBlank() ? null : Path.of(p);
    }

    /** Registers the natives once; afterwards tells whether that worked. */
    static synchronized boolean load() {
        if (loaded) {
            return true;
        }
        if (loadError != null) {
            return false;
        }
        Path path = configuredPath();
        try {
            if (path != null && !Files.isRegularFile(path)) {
                loadError = "libhprobe not found at " + path + " (set by hprobe.libhprobe or HPROBE_LIBHPROBE)"; //$NON-NLS-1$ //$NON-NLS-2$
                return false;
            }
            NativeLibrary lib = NativeLibrary.getInstance(path != null ? path.toString() : "hprobe"); //$NON-NLS-1$
            Native.register(LibHprobe.class, lib);
            long rec = hp_record__size(), meta = hp_journal_meta__size();
            if (rec != REC_SIZE || meta != META_SIZE) {
                loadError = "libhprobe" + (path != null ? " at " + path : "") + " has a struct hp_record of " + rec //$NON-NLS-1$ //$NON-NLS-2$ //$NON-NLS-3$ //$NON-NLS-4$
                        + " bytes and a struct hp_journal_meta of " + meta + ", this workbench expects " + REC_SIZE //$NON-NLS-1$ //$NON-NLS-2$
                        + " and " + META_SIZE + ": another version"; //$NON-NLS-1$ //$NON-NLS-2$
                return false;
            }
            loaded = true;
            return true;
        } catch (UnsatisfiedLinkError | RuntimeException e) {
            loadError = "cannot load libhprobe" + (path != null ? " from " + path : "") + ": " + e.getMessage(); //$NON-NLS-1$ //$NON-NLS-2$ //$NON-NLS-3$ //$NON-NLS-4$
            return false;
        }
    }

    /** Why {@link #load()} failed, or null. */
    static synchronized @Nullable String loadError() {
        return loadError;
    }

    static String errText(Memory err) {
        return err.getString(0, "UTF-8"); //$NON-NLS-1$
    }

    static native String hp_version();

    static native long hp_record__size();

    static native long hp_journal_meta__size();

    static native Pointer hp_hit__fields();

    static native long hp_hit__csv_header(Pointer out, long cap);

    static native int hp_journal__open(String path, PointerByReference out, Pointer err);

    static native Pointer hp_journal__meta(Pointer reader);

    static native int hp_journal__next(Pointer reader, Pointer rec, Pointer err);

    static native int hp_journal__truncated(Pointer reader, LongByReference validBytes);

    static native long hp_journal__offset(Pointer reader);

    static native void hp_journal__close_reader(Pointer reader);

    static native int hp_journal__create(String path, Pointer meta, int append, PointerByReference out, Pointer err);

    static native int hp_journal__append_hit(Pointer writer, Pointer hit, LongByReference seq);

    static native int hp_journal__append_json(Pointer writer, int type, long timeNs, String json, long len,
            LongByReference seq);

    static native int hp_journal__close(Pointer writer, Pointer err);

    static native int hp_export__parse_format(String name);

    static native int hp_export__journal(String journal, int format, String out, Pointer filter, ProgressFn progress,
            @Nullable Pointer ud, Pointer stats, Pointer err);
}
