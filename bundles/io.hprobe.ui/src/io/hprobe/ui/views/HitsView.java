package io.hprobe.ui.views;

import io.hprobe.ui.Messages;

/** Table of probe hits as they arrive. Placeholder until that work lands. */
public class HitsView extends PlaceholderView {

    public static final String ID = "io.hprobe.ui.hits"; //$NON-NLS-1$

    public HitsView() {
        super(Messages.HitsView_placeholder);
    }
}
