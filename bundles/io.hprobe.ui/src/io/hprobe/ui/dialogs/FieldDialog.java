package io.hprobe.ui.dialogs;

import java.util.LinkedHashMap;
import java.util.Map;

import org.eclipse.jdt.annotation.Nullable;
import org.eclipse.jface.dialogs.DialogSettings;
import org.eclipse.jface.dialogs.IDialogSettings;
import org.eclipse.jface.dialogs.TitleAreaDialog;
import org.eclipse.swt.SWT;
import org.eclipse.swt.layout.GridData;
import org.eclipse.swt.widgets.Button;
import org.eclipse.swt.widgets.Composite;
import org.eclipse.swt.widgets.FileDialog;
import org.eclipse.swt.widgets.Label;
import org.eclipse.swt.widgets.Shell;
import org.eclipse.swt.widgets.Text;

import io.hprobe.ui.Activator;
import io.hprobe.ui.Messages;

/**
 * A title-area dialog with labelled text fields and Browse buttons. The fields given to {@link #remember} show
 * what was typed last time (saved on OK), and the dialog keeps its size and place: the workbench's dialog
 * settings, as Eclipse's own dialogs do.
 */
abstract class FieldDialog extends TitleAreaDialog {

    private final Map<String, Text> remembered = new LinkedHashMap<>();

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

    /** This dialog's section of the workbench's dialog settings. */
    private IDialogSettings settings() {
        return DialogSettings.getOrCreateSection(Activator.getDefault().getDialogSettings(), getClass().getName());
    }

    @Override
    protected IDialogSettings getDialogBoundsSettings() {
        return settings();
    }

    /** Fills t with what was typed under key last time, and saves it when OK is pressed. */
    Text remember(String key, Text t) {
        String last = settings().get(key);
        if (last != null) {
            t.setText(last);
        }
        remembered.put(key, t);
        return t;
    }

    @Override
    protected void okPressed() {
        IDialogSettings s = settings();
        remembered.forEach((key, t) -> {
            if (!t.isDisposed()) {
                s.put(key, t.getText().trim());
            }
        });
        super.okPressed();
    }

    static @Nullable String value(Text t) {
        String s = t.getText().trim();
        return s.isEmpty() ? null : s;
    }
}
