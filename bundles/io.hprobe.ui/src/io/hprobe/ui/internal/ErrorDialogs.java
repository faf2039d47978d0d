package io.hprobe.ui.internal;

import org.eclipse.core.runtime.IStatus;
import org.eclipse.core.runtime.MultiStatus;
import org.eclipse.core.runtime.Status;
import org.eclipse.jdt.annotation.Nullable;
import org.eclipse.jface.dialogs.ErrorDialog;
import org.eclipse.osgi.util.NLS;
import org.eclipse.swt.widgets.Display;
import org.eclipse.swt.widgets.Shell;

import io.hprobe.core.protocol.AgentException;
import io.hprobe.ui.Activator;
import io.hprobe.ui.Messages;

/**
 * Error dialogs that say what happened and what to do about it: the agent's error class picks the advice,
 * the agent's description says what happened, and Details holds the rest.
 */
public final class ErrorDialogs {

    private ErrorDialogs() {
    }

    /** What to do about an agent error class (docs/protocol.md classes plus the client's own). */
    public static String advice(String errorClass) {
        switch (errorClass) {
            case AgentException.DISCONNECTED :
                return Messages.Advice_Disconnected;
            case AgentException.NO_REPLY :
            case "Timeout" : //$NON-NLS-1$
                return Messages.Advice_Timeout;
            case AgentException.PROTOCOL :
                return Messages.Advice_Protocol;
            case AgentException.UNTRUSTED :
                return Messages.Advice_Untrusted;
            case "UnknownSymbol" : //$NON-NLS-1$
                return Messages.Advice_UnknownSymbol;
            case "UnsafeAddress" : //$NON-NLS-1$
                return Messages.Advice_UnsafeAddress;
            case "BadAddress" : //$NON-NLS-1$
                return Messages.Advice_BadAddress;
            case "UnknownVm" : //$NON-NLS-1$
            case "VmDead" : //$NON-NLS-1$
                return Messages.Advice_VmDead;
            case "VmBusy" : //$NON-NLS-1$
                return Messages.Advice_VmBusy;
            case "InvalidArgument" : //$NON-NLS-1$
                return Messages.Advice_InvalidArgument;
            case "NotSupported" : //$NON-NLS-1$
                return Messages.Advice_NotSupported;
            case "IoError" : //$NON-NLS-1$
                return Messages.Advice_IoError;
            case "GuestError" : //$NON-NLS-1$
                return Messages.Advice_GuestError;
            case "UnknownProbe" : //$NON-NLS-1$
            case "UnknownDetector" : //$NON-NLS-1$
                return Messages.Advice_Unknown;
            default :
                return Messages.Advice_Internal;
        }
    }

    /** The text of the dialog's message: what failed, why (agent's words) and what to do. */
    public static String message(String what, Throwable t) {
        AgentException a = AgentException.unwrap(t);
        if (a != null) {
            return NLS.bind(Messages.Error_agent, new Object[]{ what, a.desc(), advice(a.errorClass()) });
        }
        return NLS.bind(Messages.Error_other, what, String.valueOf(t.getMessage()));
    }

    public static void show(@Nullable Shell parent, String what, Throwable t) {
        Display display = Display.getDefault();
        Shell shell = parent != null ? parent : display.getActiveShell();
        AgentException a = AgentException.unwrap(t);
        MultiStatus status = new MultiStatus(Activator.PLUGIN_ID, IStatus.ERROR, message(what, t), t);
        if (a != null) {
            status.add(new Status(IStatus.ERROR, Activator.PLUGIN_ID, NLS.bind(Messages.Error_class, a.errorClass())));
            if (a.data() != null) {
                status.add(new Status(IStatus.ERROR, Activator.PLUGIN_ID, String.valueOf(a.data())));
            }
        } else {
            status.add(new Status(IStatus.ERROR, Activator.PLUGIN_ID, t.toString(), t));
        }
        // not blocking: it reports a job's failure; the workbench (and a test's event loop) goes on meanwhile
        ErrorDialog d = new ErrorDialog(shell, Messages.Error_title, null, status,
                IStatus.ERROR | IStatus.WARNING | IStatus.INFO);
        d.setBlockOnOpen(false);
        d.open();
    }
}
