package io.hprobe.ui.handlers;

import java.nio.file.Path;

import org.eclipse.core.commands.AbstractHandler;
import org.eclipse.core.commands.ExecutionEvent;
import org.eclipse.jdt.annotation.Nullable;
import org.eclipse.swt.SWT;
import org.eclipse.swt.widgets.Display;
import org.eclipse.swt.widgets.FileDialog;
import org.eclipse.swt.widgets.Shell;
import org.eclipse.ui.handlers.HandlerUtil;

import io.hprobe.core.model.Vm;
import io.hprobe.ui.HProbeUi;
import io.hprobe.ui.Messages;
import io.hprobe.ui.internal.ProbeSets;

/**
 * File > Open Probe Set (into the selected VM, undoable) and File > Save Probe Set (its probes and detectors):
 * a file dialog, then ProbeSets. Enabled for a live VM.
 */
public abstract class ProbeSetHandler extends AbstractHandler {

    private static final String[] FILTER = { "*.json", "*" }; //$NON-NLS-1$ //$NON-NLS-2$

    /** File > Open Probe Set... */
    public static class Open extends ProbeSetHandler {

        @Override
        void run(Shell shell, Vm vm) {
            FileDialog d = new FileDialog(shell, SWT.OPEN);
            d.setText(Messages.ProbeSet_open);
            d.setFilterExtensions(FILTER);
            String f = d.open();
            if (f != null) {
                ProbeSets.open(vm, Path.of(f));
            }
        }
    }

    /** File > Save Probe Set As... */
    public static class Save extends ProbeSetHandler {

        @Override
        void run(Shell shell, Vm vm) {
            FileDialog d = new FileDialog(shell, SWT.SAVE);
            d.setText(Messages.ProbeSet_save);
            d.setFilterExtensions(FILTER);
            d.setFileName(vm.name() + "-probes.json"); //$NON-NLS-1$
            d.setOverwrite(true);
            String f = d.open();
            if (f != null) {
                ProbeSets.save(vm, Path.of(f));
            }
        }
    }

    abstract void run(Shell shell, Vm vm);

    @Override
    public @Nullable Object execute(@Nullable ExecutionEvent event) {
        Shell shell = event == null ? Display.getDefault().getActiveShell() : HandlerUtil.getActiveShell(event);
        Vm vm = HProbeUi.context().vm();
        if (vm != null && vm.isLive()) {
            run(shell, vm);
        }
        return null;
    }
}
