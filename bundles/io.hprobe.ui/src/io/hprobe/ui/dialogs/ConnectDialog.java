package io.hprobe.ui.dialogs;

import org.eclipse.jdt.annotation.Nullable;
import org.eclipse.swt.SWT;
import org.eclipse.swt.layout.GridData;
import org.eclipse.swt.layout.GridLayout;
import org.eclipse.swt.widgets.Button;
import org.eclipse.swt.widgets.Composite;
import org.eclipse.swt.widgets.Control;
import org.eclipse.swt.widgets.Shell;
import org.eclipse.swt.widgets.Text;

import io.hprobe.core.model.SshTunnel;
import io.hprobe.ui.Messages;
import io.hprobe.ui.preferences.Prefs;

/** Adds an agent by its socket path, or on another host by an ssh:// URL (forwarded over SSH). */
public class ConnectDialog extends FieldDialog {

    private @Nullable Text socket;
    private @Nullable Button start;
    private String result = Prefs.socket().toString();
    private boolean startIfAbsent;

    public ConnectDialog(@Nullable Shell parent) {
        super(parent);
    }

    @Override
    protected Control createDialogArea(Composite parent) {
        Composite area = (Composite) super.createDialogArea(parent);
        setTitle(Messages.Connect_title);
        setMessage(Messages.Connect_message);
        getShell().setText(Messages.Connect_title);
        Composite c = new Composite(area, SWT.NONE);
        c.setLayoutData(new GridData(SWT.FILL, SWT.FILL, true, true));
        c.setLayout(new GridLayout(3, false));
        Text s = field(c, Messages.Connect_socket, Messages.Connect_socketHint, true);
        s.setText(Prefs.socket().toString());
        remember("socket", s); // the socket typed last time, else the preferences' //$NON-NLS-1$
        socket = s;
        Button b = new Button(c, SWT.CHECK);
        b.setText(Messages.Connect_start);
        b.setLayoutData(new GridData(SWT.FILL, SWT.CENTER, true, false, 3, 1));
        start = b;
        return area;
    }

    @Override
    protected void okPressed() {
        Text s = socket;
        Button b = start;
        String v = s == null ? null : value(s);
        if (v != null && SshTunnel.isSsh(v)) {
            try {
                SshTunnel.parse(v);
            } catch (IllegalArgumentException e) {
                setErrorMessage(e.getMessage());
                return;
            }
        } else if (v == null || !v.startsWith("/")) { //$NON-NLS-1$
            setErrorMessage(Messages.Connect_absolute);
            return;
        }
        result = v;
        startIfAbsent = b != null && b.getSelection() && !SshTunnel.isSsh(v);
        super.okPressed();
    }

    /** A socket path or an ssh:// URL. */
    public String target() {
        return result;
    }

    public boolean startIfAbsent() {
        return startIfAbsent;
    }
}
