package io.hprobe.core.journal;

/** What an export wrote (struct hp_export_stats). */
public record ExportStats(long hitsWritten, long recordsRead) {
}
