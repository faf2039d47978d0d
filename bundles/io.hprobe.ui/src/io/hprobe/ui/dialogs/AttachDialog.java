package io.hprobe.ui.dialogs;

import org.eclipse.jdt.annotation.Nullable;
import org.eclipse.swt.SWT;
import org.eclipse.swt.layout.GridData;
import org.eclipse.swt.layout.GridLayout;
import org.eclipse.swt.widgets.Composite;
import org.eclipse.swt.widgets.Control;
import org.eclipse.swt.widgets.Shell;
import org.eclipse.swt.widgets.Text;

import io.hprobe.core.model.AttachOptions;
import io.hprobe.ui.Messages;

/** vm-attach: a running QEMU by its QMP socket, with optional kernel symbols and vmlinux (BTF). */
public class AttachDialog extends FieldDialog {

    private @Nullable Text qmp;
    private @Nullable Text name;
    private @Nullable Text symbols;
    private @Nullable Text vmlinux;
    private AttachOptions options = new AttachOptions("", null, null, null); //$NON-NLS-1$

    public AttachDialog(@Nullable Shell parent) {
        super(parent);
    }

    @Override
    protected Control createDialogArea(Composite parent) {
        Composite area = (Composite) super.createDialogArea(parent);
        setTitle(Messages.Attach_title);
        setMessage(Messages.Attach_message);
        getShell().setText(Messages.Attach_title);
        Composite c = new Composite(area, SWT.NONE);
        c.setLayoutData(new GridData(SWT.FILL, SWT.FILL, true, true));
        c.setLayout(new GridLayout(3, false));
        qmp = remember("qmp", field(c, Messages.Attach_qmp, Messages.Attach_qmpHint, true)); //$NON-NLS-1$
        name = remember("name", field(c, Messages.Attach_name, Messages.Attach_nameHint, false)); //$NON-NLS-1$
        symbols = remember("symbols", field(c, Messages.Attach_symbols, Messages.Attach_symbolsHint, true)); //$NON-NLS-1$
        vmlinux = remember("vmlinux", field(c, Messages.Attach_vmlinux, Messages.Attach_vmlinuxHint, true)); //$NON-NLS-1$
        return area;
    }

    @Override
    protected void okPressed() {
        Text q = qmp;
        String path = q == null ? null : value(q);
        if (path == null) {
            setErrorMessage(Messages.Attach_needQmp);
            return;
        }
        options = new AttachOptions(path, opt(name), opt(symbols), opt(vmlinux));
        super.okPressed();
    }

    private static @Nullable String opt(@Nullable Text t) {
        return t == null ? null : value(t);
    }

    public AttachOptions options() {
        return options;
    }
}
