package io.hprobe.ui.views;

import org.eclipse.jdt.annotation.Nullable;
import org.eclipse.osgi.util.NLS;
import org.eclipse.swt.SWT;
import org.eclipse.swt.layout.FillLayout;
import org.eclipse.swt.widgets.Composite;
import org.eclipse.swt.widgets.Label;
import org.eclipse.ui.part.ViewPart;

import io.hprobe.ui.Messages;

/**
 * A view whose work is still to be done: it says what it will show and that it does not work yet,
 * instead of showing empty widgets that look like a result.
 */
public abstract class PlaceholderView extends ViewPart {

    private final String purpose;
    private @Nullable Label label;

    /** @param purpose what the finished view will show (one or two sentences) */
    protected PlaceholderView(String purpose) {
        this.purpose = purpose;
    }

    @Override
    public void createPartControl(Composite parent) {
        parent.setLayout(new FillLayout());
        Label text = new Label(parent, SWT.WRAP);
        text.setText(getPlaceholderText());
        label = text;
    }

    /** The text shown: what the view will show, and that it is not implemented yet. */
    public String getPlaceholderText() {
        return NLS.bind(Messages.NotImplementedYet, purpose);
    }

    @Override
    public void setFocus() {
        Label text = label;
        if (text != null) {
            text.setFocus();
        }
    }
}
