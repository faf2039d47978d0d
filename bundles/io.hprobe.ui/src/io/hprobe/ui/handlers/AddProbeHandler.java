package io.hprobe.ui.handlers;

import org.eclipse.core.commands.AbstractHandler;
import org.eclipse.core.commands.ExecutionEvent;
import org.eclipse.jdt.annotation.Nullable;
import org.eclipse.ui.IWorkbenchPage;
import org.eclipse.ui.IWorkbenchPart;
import org.eclipse.ui.PartInitException;
import org.eclipse.ui.handlers.HandlerUtil;

import io.hprobe.ui.Messages;
import io.hprobe.ui.internal.ErrorDialogs;
import io.hprobe.ui.views.ProbeEditorView;

/**
 * Add Probe (Ctrl+Shift+P): in the Probe Editor, adds the probe in its form; elsewhere, brings the Probe
 * Editor forward with its search field focused.
 */
public class AddProbeHandler extends AbstractHandler {

    @Override
    public @Nullable Object execute(@Nullable ExecutionEvent event) {
        if (event == null) {
            return null;
        }
        IWorkbenchPart part = HandlerUtil.getActivePart(event);
        if (part instanceof ProbeEditorView editor) {
            editor.addFromForm();
            return null;
        }
        try {
            IWorkbenchPage page = HandlerUtil.getActiveWorkbenchWindowChecked(event).getActivePage();
            page.showView(ProbeEditorView.ID, null, IWorkbenchPage.VIEW_ACTIVATE);
        } catch (PartInitException | org.eclipse.core.commands.ExecutionException e) {
            ErrorDialogs.show(null, Messages.Cmd_addProbe, e);
        }
        return null;
    }
}
