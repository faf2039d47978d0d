package io.hprobe.ui.views;

import io.hprobe.ui.Messages;

/** Symbols and disassembly of the selected VM, where probes are placed. Placeholder until that work lands. */
public class ProbeEditorView extends PlaceholderView {

    public static final String ID = "io.hprobe.ui.probeEditor"; //$NON-NLS-1$

    public ProbeEditorView() {
        super(Messages.ProbeEditorView_placeholder);
    }
}
