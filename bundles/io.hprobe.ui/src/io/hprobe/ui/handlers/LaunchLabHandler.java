package io.hprobe.ui.handlers;

import org.eclipse.core.commands.AbstractHandler;
import org.eclipse.core.commands.ExecutionEvent;
import org.eclipse.jdt.annotation.Nullable;

import io.hprobe.ui.internal.VmActions;

/** VM > Launch Lab Guest (Ctrl+Shift+L) on the local agent. */
public class LaunchLabHandler extends AbstractHandler {

    @Override
    public @Nullable Object execute(@Nullable ExecutionEvent event) {
        VmActions.launchLab(null);
        return null;
    }
}
