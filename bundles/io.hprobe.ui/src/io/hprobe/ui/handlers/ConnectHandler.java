package io.hprobe.ui.handlers;

import org.eclipse.core.commands.AbstractHandler;
import org.eclipse.core.commands.ExecutionEvent;
import org.eclipse.jdt.annotation.Nullable;
import org.eclipse.jface.window.Window;
import org.eclipse.swt.widgets.Display;
import org.eclipse.ui.handlers.HandlerUtil;

import io.hprobe.ui.HProbeUi;
import io.hprobe.ui.dialogs.ConnectDialog;

/** VM > Connect to Agent: another agent by its socket path. */
public class ConnectHandler extends AbstractHandler {

    @Override
    public @Nullable Object execute(@Nullable ExecutionEvent event) {
        ConnectDialog d = new ConnectDialog(
                event == null ? Display.getDefault().getActiveShell() : HandlerUtil.getActiveShell(event));
        if (d.open() == Window.OK) {
            HProbeUi.addAgent(d.target(), d.startIfAbsent());
        }
        return null;
    }
}
