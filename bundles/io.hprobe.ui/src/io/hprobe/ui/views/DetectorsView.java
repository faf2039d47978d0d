package io.hprobe.ui.views;

import io.hprobe.ui.Messages;

/** Detector configurations and live state. Placeholder until that work lands. */
public class DetectorsView extends PlaceholderView {

    public static final String ID = "io.hprobe.ui.detectors"; //$NON-NLS-1$

    public DetectorsView() {
        super(Messages.DetectorsView_placeholder);
    }
}
