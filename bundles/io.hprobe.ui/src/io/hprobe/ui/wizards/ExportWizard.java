package io.hprobe.ui.wizards;

import java.nio.file.Path;

import org.eclipse.core.runtime.IProgressMonitor;
import org.eclipse.core.runtime.IStatus;
import org.eclipse.core.runtime.Status;
import org.eclipse.core.runtime.jobs.Job;
import org.eclipse.jdt.annotation.Nullable;
import org.eclipse.jface.wizard.Wizard;
import org.eclipse.osgi.util.NLS;

import io.hprobe.core.journal.ExportFormat;
import io.hprobe.core.journal.ExportRequest;
import io.hprobe.core.journal.ExportStats;
import io.hprobe.core.journal.Journals;
import io.hprobe.core.journal.Outcome;
import io.hprobe.core.model.Vm;
import io.hprobe.ui.Activator;
import io.hprobe.ui.Messages;
import io.hprobe.ui.internal.MonitorSink;

/**
 * Exports a VM's journal (live or opened offline) with libhprobe's exporters, in a job with progress and
 * cancel. The journal is read from disk, so a live VM keeps running and recording meanwhile.
 */
public class ExportWizard extends Wizard {

    private final ExportPage page;
    private @Nullable Job job;

    public ExportWizard(Vm vm, Path journal) {
        setWindowTitle(Messages.Export_window);
        setNeedsProgressMonitor(false);
        page = new ExportPage(vm, journal);
    }

    @Override
    public void addPages() {
        addPage(page);
    }

    @Override
    public boolean performFinish() {
        job = schedule(page.request());
        return true;
    }

    /** The export job started by Finish, or null. */
    public @Nullable Job getJob() {
        return job;
    }

    /** Presets for tests (the page's controls otherwise). */
    public void preset(ExportFormat format, String out) {
        page.setFormat(format);
        page.setOut(out);
    }

    /** Runs an export as a user job; the job's result says what was written, failed, or was cancelled. */
    public static Job schedule(ExportRequest req) {
        Job j = new Job(NLS.bind(Messages.Export_job, req.format().id(), req.out())) {

            @Override
            protected IStatus run(IProgressMonitor monitor) {
                Outcome<ExportStats> o = Journals.export(req, new MonitorSink(monitor, getName()));
                switch (o.status()) {
                    case OK :
                        ExportStats s = o.value();
                        return new Status(IStatus.OK, Activator.PLUGIN_ID,
                                NLS.bind(Messages.Export_done, s == null ? 0 : s.hitsWritten(), req.out()));
                    case CANCELLED :
                        return Status.CANCEL_STATUS;
                    default :
                        return new Status(IStatus.ERROR, Activator.PLUGIN_ID,
                                NLS.bind(Messages.Export_failed, o.message()));
                }
            }
        };
        j.setUser(true);
        j.schedule();
        return j;
    }
}
