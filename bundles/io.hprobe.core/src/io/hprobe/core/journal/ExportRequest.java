package io.hprobe.core.journal;

import java.nio.file.Path;
import java.util.Set;

/**
 * What to export from a journal.
 *
 * @param probes    probe ids to keep, empty for all
 * @param processes pids (or tgids) to keep, empty for all
 * @param fromNs    start of the time range, relative to the journal start (ns)
 * @param toNs      end of the range relative to the journal start, 0 for no end
 */
public record ExportRequest(Path journal, ExportFormat format, Path out, Set<Integer> probes, Set<Integer> processes,
        long fromNs, long toNs) {

    public ExportRequest {
        probes = Set.copyOf(probes);
        processes = Set.copyOf(processes);
    }

    /** Everything in the journal. */
    public static ExportRequest all(Path journal, ExportFormat format, Path out) {
        return new ExportRequest(journal, format, out, Set.of(), Set.of(), 0, 0);
    }
}
