package io.hprobe.ui.views;

import io.hprobe.ui.Messages;

/** The probes of the selected VM, switched on and off at run time. Placeholder until that work lands. */
public class ProbesView extends PlaceholderView {

    public static final String ID = "io.hprobe.ui.probes"; //$NON-NLS-1$

    public ProbesView() {
        super(Messages.ProbesView_placeholder);
    }
}
