package io.hprobe.ui.handlers;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;

import org.eclipse.core.commands.AbstractHandler;
import org.eclipse.core.commands.ExecutionEvent;
import org.eclipse.core.runtime.IStatus;
import org.eclipse.core.runtime.Status;
import org.eclipse.core.runtime.jobs.Job;
import org.eclipse.jdt.annotation.Nullable;
import org.eclipse.jface.dialogs.MessageDialog;
import org.eclipse.jface.wizard.WizardDialog;
import org.eclipse.osgi.util.NLS;
import org.eclipse.swt.widgets.Display;
import org.eclipse.swt.widgets.Shell;
import org.eclipse.ui.handlers.HandlerUtil;

import io.hprobe.core.journal.Journals;
import io.hprobe.core.model.Agent;
import io.hprobe.core.model.Vm;
import io.hprobe.core.protocol.AgentException;
import io.hprobe.ui.Activator;
import io.hprobe.ui.HProbeUi;
import io.hprobe.ui.Messages;
import io.hprobe.ui.wizards.ExportWizard;

/**
 * File > Export Trace: the export wizard for the selected VM's journal (for an agent on another host, a copy
 * fetched over SSH first).
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
        if (agent == null || !agent.isRemote()) {
            new WizardDialog(shell, new ExportWizard(vm, Path.of(journal))).open();
            return null;
        }
        // a remote agent's journal is on its host: export a copy taken now (the VM records on)
        Job copy = Job.create(NLS.bind(Messages.Job_fetchJournal, vm.name(), agent.target()), monitor -> {
            try {
                Path dir = Files.createTempDirectory("hprobe-journal", //$NON-NLS-1$
                        PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------"))); //$NON-NLS-1$
                dir.toFile().deleteOnExit();
                Path local = agent.localCopy(journal, dir);
                local.toFile().deleteOnExit(); // removed before its directory: the reverse order
                shell.getDisplay().asyncExec(() -> {
                    if (!shell.isDisposed()) {
                        new WizardDialog(shell, new ExportWizard(vm, local)).open();
                    }
                });
                return Status.OK_STATUS;
            } catch (AgentException | IOException e) {
                return new Status(IStatus.ERROR, Activator.PLUGIN_ID, e.getMessage(), e);
            }
        });
        copy.setUser(true);
        copy.schedule();
        return null;
    }
}
