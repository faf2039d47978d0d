package io.hprobe.ui.handlers;

import org.eclipse.core.commands.AbstractHandler;
import org.eclipse.core.commands.ExecutionEvent;
import org.eclipse.jdt.annotation.Nullable;
import org.eclipse.jface.window.Window;
import org.eclipse.swt.widgets.Display;
import org.eclipse.ui.handlers.HandlerUtil;

import io.hprobe.ui.dialogs.AttachDialog;
import io.hprobe.ui.internal.VmActions;

/** VM > Attach to QEMU: vm-attach on the local agent. */
public class AttachHandler extends AbstractHandler {

    @Override
    public @Nullable Object execute(@Nullable ExecutionEvent event) {
        AttachDialog d = new AttachDialog(
                event == null ? Display.getDefault().getActiveShell() : HandlerUtil.getActiveShell(event));
        if (d.open() == Window.OK) {
            VmActions.attach(null, d.options());
        }
        return null;
    }
}
