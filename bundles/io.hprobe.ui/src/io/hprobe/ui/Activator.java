package io.hprobe.ui;

import org.eclipse.jdt.annotation.Nullable;
import org.eclipse.ui.plugin.AbstractUIPlugin;
import org.osgi.framework.BundleContext;

/** The io.hprobe.ui plug-in: its preference store and the workbench's one model. */
public class Activator extends AbstractUIPlugin {

    public static final String PLUGIN_ID = "io.hprobe.ui"; //$NON-NLS-1$

    private static @Nullable Activator plugin;

    @Override
    public void start(BundleContext context) throws Exception {
        super.start(context);
        plugin = this;
        getPreferenceStore().addPropertyChangeListener(HProbeUi::preferenceChanged);
    }

    @Override
    public void stop(BundleContext context) throws Exception {
        HProbeUi.dispose();
        plugin = null;
        super.stop(context);
    }

    public static Activator getDefault() {
        Activator p = plugin;
        if (p == null) {
            throw new IllegalStateException("io.hprobe.ui is not active"); //$NON-NLS-1$
        }
        return p;
    }
}
