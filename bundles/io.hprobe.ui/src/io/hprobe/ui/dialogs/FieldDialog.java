package io.hprobe.ui.dialogs;

import org.eclipse.jdt.annotation.Nullable;
import org.eclipse.jface.dialogs.TitleAreaDialog;
import org.eclipse.swt.SWT;
import org.eclipse.swt.layout.GridData;
import org.eclipse.swt.widgets.Button;
import org.eclipse.swt.widgets.Composite;
import org.eclipse.swt.widgets.FileDialog;
import org.eclipse.swt.widgets.Label;
import org.eclipse.swt.widgets.Shell;
import org.eclipse.swt.widgets.Text;

import io.hprobe.ui.Messages;

/** A title-area dialog with labelled text fields and Browse buttons. */
abstract class FieldDialog extends TitleAreaDialog {

    FieldDialog(@Nullable Shell parent) {
        super(parent);
        setShellStyle(getShellStyle() | SWT.RESIZE);
    }

    static Text field(Composite parent, String label, String hint, boolean browse) {
        new Label(parent, SWT.NONE).setText(label);
        Text t = new Text(parent, SWT.BORDER);
        t.setMessage(hint);
        GridData d = new GridData(SWT.FILL, SWT.CENTER, true, false, browse ? 1 : 2, 1);
        d.widthHint = 360;
        t.setLayoutData(d);
        if (browse) {
            Button b = new Button(parent, SWT.PUSH);
            b.setText(Messages.Browse);
            b.addListener(SWT.Selection, e -> {
                FileDialog f = new FileDialog(parent.getShell(), SWT.OPEN);
                String path = f.open();
                if (path != null) {
                    t.setText(path);
                }
            });
        }
        return t;
    }

    static @Nullable String value(Text t) {
        String s = t.getText().trim();
        return s.isEmpty() ? null : s;
    }
}
