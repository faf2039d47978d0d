package io.hprobe.ui.handlers;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

import org.eclipse.core.commands.AbstractHandler;
import org.eclipse.core.commands.ExecutionEvent;
import org.eclipse.core.runtime.IProgressMonitor;
import org.eclipse.core.runtime.IStatus;
import org.eclipse.core.runtime.Status;
import org.eclipse.core.runtime.jobs.Job;
import org.eclipse.jdt.annotation.Nullable;
import org.eclipse.osgi.util.NLS;
import org.eclipse.swt.SWT;
import org.eclipse.swt.widgets.Display;
import org.eclipse.swt.widgets.FileDialog;
import org.eclipse.ui.handlers.HandlerUtil;

import io.hprobe.core.journal.Journals;
import io.hprobe.core.journal.Outcome;
import io.hprobe.core.model.Vm;
import io.hprobe.ui.Activator;
import io.hprobe.ui.HProbeUi;
import io.hprobe.ui.Messages;
import io.hprobe.ui.internal.MonitorSink;
import io.hprobe.ui.internal.RecentJournals;
import io.hprobe.ui.preferences.Prefs;

/**
 * File > Open Journal: a saved journal browsed in the same views, with no agent (through libhprobe). Also the
 * journals named on the command line ({@code hprobe-workbench.sh run.hpj}) and File > Recent Journals.
 */
public class OpenJournalHandler extends AbstractHandler {

    @Override
    public @Nullable Object execute(@Nullable ExecutionEvent event) {
        FileDialog d = new FileDialog(
                event == null ? Display.getDefault().getActiveShell() : HandlerUtil.getActiveShell(event), SWT.OPEN);
        d.setFilterExtensions(new String[]{ "*.hpj", "*" }); //$NON-NLS-1$ //$NON-NLS-2$
        d.setText(Messages.Journal_open);
        String f = d.open();
        if (f != null) {
            open(Path.of(f));
        }
        return null;
    }

    /**
     * Opens the journals among the workbench's command-line arguments: those whose name ends in ".hpj" (the
     * others belong to the platform or a test harness). A missing or damaged one fails as Open Journal does.
     */
    public static List<Job> openArguments(String[] args) {
        List<Job> jobs = new ArrayList<>();
        for (String a : args) {
            if (!a.startsWith("-") && a.toLowerCase(Locale.ROOT).endsWith(".hpj")) { //$NON-NLS-1$ //$NON-NLS-2$
                jobs.add(open(Path.of(a)));
            }
        }
        return jobs;
    }

    /** Loads a journal in a job and selects it when done. */
    public static Job open(Path journal) {
        Job job = new Job(NLS.bind(Messages.Journal_job, journal.getFileName())) {

            @Override
            protected IStatus run(IProgressMonitor monitor) {
                Outcome<Vm> o = Journals.load(HProbeUi.model(), journal, Prefs.hitCapacity(),
                        new MonitorSink(monitor, getName()));
                Vm vm = o.value();
                if (o.isOk() && vm != null) {
                    Display.getDefault().asyncExec(() -> {
                        HProbeUi.model().addOffline(vm);
                        HProbeUi.context().selectVm(vm);
                        RecentJournals.add(journal);
                    });
                    return Status.OK_STATUS;
                }
                if (o.status() == Outcome.Status.CANCELLED) {
                    return Status.CANCEL_STATUS;
                }
                return new Status(IStatus.ERROR, Activator.PLUGIN_ID, NLS.bind(Messages.Journal_failed, o.message()));
            }
        };
        job.setUser(true);
        job.schedule();
        return job;
    }
}
