package io.hprobe.ui.handlers;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;

import org.eclipse.core.commands.AbstractHandler;
import org.eclipse.core.commands.ExecutionEvent;
import org.eclipse.core.runtime.IStatus;
import org.eclipse.core.runtime.Status;
import org.eclipse.core.runtime.SubMonitor;
import org.eclipse.core.runtime.jobs.Job;
import org.eclipse.jdt.annotation.Nullable;
import org.eclipse.jface.dialogs.MessageDialog;
import org.eclipse.jface.wizard.WizardDialog;
import org.eclipse.osgi.util.NLS;
import org.eclipse.swt.widgets.Display;
import org.eclipse.swt.widgets.Shell;
import org.eclipse.ui.handlers.HandlerUtil;

import io.hprobe.core.journal.Journals;
import io.hprobe.core.journal.ProgressSink;
import io.hprobe.core.model.Agent;
import io.hprobe.core.model.JournalCopy;
import io.hprobe.core.model.Vm;
import io.hprobe.core.protocol.AgentException;
import io.hprobe.ui.Activator;
import io.hprobe.ui.HProbeUi;
import io.hprobe.ui.Messages;
import io.hprobe.ui.wizards.ExportWizard;

/**
 * File > Export Trace: the export wizard for the selected VM's journal (for an agent on another host, a copy
 * read through the protocol first, with its progress).
 */
public class ExportHandler extends AbstractHandler {

    @Override
    public @Nullable Object execute(@Nullable ExecutionEvent event) {
        Shell shell = event == null ? Display.getDefault().getActiveShell() : HandlerUtil.getActiveShell(event);
        Vm vm = HProbeUi.context().vm();
        String journal = vm == null ? null : vm.info().journal();
        if (vm == null || journal == null) {
            MessageDialog.openInformation(shell, Messages.Export_window, Messages.Export_noVm);
            return null;
        }
        if (!Journals.isAvailable()) {
            MessageDialog.openError(shell, Messages.Export_window,
                    NLS.bind(Messages.Export_noLib, Journals.unavailableReason()));
            return null;
        }
        Agent agent = vm.agent();
        if (agent == null || JournalCopy.sharesFiles(agent, journal)) {
            new WizardDialog(shell, new ExportWizard(vm, Path.of(journal))).open();
            return null;
        }
        // another host's journal (an SSH tunnel, or a socket forwarded by hand): export a copy read through
        // the protocol now (the VM records on)
        Job copy = Job.create(NLS.bind(Messages.Job_fetchJournal, vm.name(), agent.target()), monitor -> {
            try {
                Path dir = Files.createTempDirectory("hprobe-journal", //$NON-NLS-1$
                        PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------"))); //$NON-NLS-1$
                dir.toFile().deleteOnExit();
                SubMonitor sub = SubMonitor.convert(monitor, 1000);
                int[] shown = { 0 };
                Path local = JournalCopy.local(vm, dir, new ProgressSink() {

                    @Override
                    public void progress(long done, long total) {
                        int now = total <= 0 ? 1000 : (int) Math.min(1000, done * 1000 / total);
                        sub.worked(now - shown[0]);
                        shown[0] = now;
                        sub.subTask(NLS.bind(Messages.Job_fetchedBytes, done >> 10, total >> 10));
                    }

                    @Override
                    public boolean isCancelled() {
                        return monitor.isCanceled();
                    }
                });
                local.toFile().deleteOnExit(); // removed before its directory: the reverse order
                shell.getDisplay().asyncExec(() -> {
                    if (!shell.isDisposed()) {
                        new WizardDialog(shell, new ExportWizard(vm, local)).open();
                    }
                });
                return Status.OK_STATUS;
            } catch (AgentException e) {
                return JournalCopy.CANCELLED.equals(e.errorClass())
                        ? Status.CANCEL_STATUS
                        : new Status(IStatus.ERROR, Activator.PLUGIN_ID, e.getMessage(), e);
            } catch (IOException e) {
                return new Status(IStatus.ERROR, Activator.PLUGIN_ID, e.getMessage(), e);
            }
        });
        copy.setUser(true);
        copy.schedule();
        return null;
    }
}
