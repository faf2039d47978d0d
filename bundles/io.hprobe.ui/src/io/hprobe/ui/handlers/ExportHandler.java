package io.hprobe.ui.handlers;

import java.nio.file.Path;

import org.eclipse.core.commands.AbstractHandler;
import org.eclipse.core.commands.ExecutionEvent;
import org.eclipse.jdt.annotation.Nullable;
import org.eclipse.jface.dialogs.MessageDialog;
import org.eclipse.jface.wizard.WizardDialog;
import org.eclipse.osgi.util.NLS;
import org.eclipse.swt.widgets.Display;
import org.eclipse.swt.widgets.Shell;
import org.eclipse.ui.handlers.HandlerUtil;

import io.hprobe.core.journal.Journals;
import io.hprobe.core.model.Vm;
import io.hprobe.ui.HProbeUi;
import io.hprobe.ui.Messages;
import io.hprobe.ui.wizards.ExportWizard;

/** File > Export Trace (Ctrl+E): the export wizard for the selected VM's journal. */
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
        new WizardDialog(shell, new ExportWizard(vm, Path.of(journal))).open();
        return null;
    }
}
