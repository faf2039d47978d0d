package io.hprobe.ui.views;

import io.hprobe.ui.Messages;

/** VMs of the connected agent and their processes. Placeholder until that work lands. */
public class VmBrowserView extends PlaceholderView {

    public static final String ID = "io.hprobe.ui.vmBrowser"; //$NON-NLS-1$

    public VmBrowserView() {
        super(Messages.VmBrowserView_placeholder);
    }
}
