package io.hprobe.core.journal;

/** The trace formats of libhprobe's exporters (enum hp_export_format). */
public enum ExportFormat {

    CSV(1, "csv", "csv", false), //$NON-NLS-1$ //$NON-NLS-2$
    JSONL(2, "jsonl", "jsonl", false), //$NON-NLS-1$ //$NON-NLS-2$
    /** Chrome Trace Event JSON: Perfetto UI, chrome://tracing */
    CHROME(3, "chrome", "json", false), //$NON-NLS-1$ //$NON-NLS-2$
    /** CTF 1.8: a directory with metadata and stream, for babeltrace2 and Trace Compass */
    CTF(4, "ctf", "", true); //$NON-NLS-1$ //$NON-NLS-2$

    private final int code;
    private final String id;
    private final String extension;
    private final boolean directory;

    ExportFormat(int code, String id, String extension, boolean directory) {
        this.code = code;
        this.id = id;
        this.extension = extension;
        this.directory = directory;
    }

    int code() {
        return code;
    }

    /** The name libhprobe and the CLI use ("csv", "jsonl", "chrome", "ctf"). */
    public String id() {
        return id;
    }

    /** File name extension without the dot; empty for CTF, whose output is a directory. */
    public String extension() {
        return extension;
    }

    public boolean isDirectory() {
        return directory;
    }
}
