package io.hprobe.ui.internal;

import org.eclipse.jface.action.Action;
import org.eclipse.jface.resource.ImageDescriptor;
import org.eclipse.jface.resource.ResourceLocator;

import io.hprobe.ui.Activator;

/** Icons: HProbe's own SVGs (icons/), and a few of the platform's. */
public final class Images {

    private Images() {
    }

    /** icons/NAME.svg of io.hprobe.ui, or none (the action shows its text). */
    public static ImageDescriptor own(String name) {
        return ResourceLocator.imageDescriptorFromBundle(Activator.PLUGIN_ID, "icons/" + name + ".svg") //$NON-NLS-1$ //$NON-NLS-2$
                .orElse(ImageDescriptor.getMissingImageDescriptor());
    }

    /** An icon of org.eclipse.ui, e.g. "icons/full/elcl16/backward_nav.png". */
    public static ImageDescriptor platform(String path) {
        return ResourceLocator.imageDescriptorFromBundle("org.eclipse.ui", path) //$NON-NLS-1$
                .orElse(ImageDescriptor.getMissingImageDescriptor());
    }

    /** Gives an action an icon; its text stays as the tooltip and menu label. */
    public static void set(Action a, ImageDescriptor d) {
        a.setImageDescriptor(d);
    }
}
