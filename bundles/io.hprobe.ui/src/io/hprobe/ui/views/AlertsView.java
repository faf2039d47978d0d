package io.hprobe.ui.views;

import io.hprobe.ui.Messages;

/** Alerts raised by the detectors. Placeholder until that work lands. */
public class AlertsView extends PlaceholderView {

    public static final String ID = "io.hprobe.ui.alerts"; //$NON-NLS-1$

    public AlertsView() {
        super(Messages.AlertsView_placeholder);
    }
}
