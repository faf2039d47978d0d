package io.hprobe.rcp;

import org.eclipse.jdt.annotation.NonNullByDefault;
import org.eclipse.osgi.util.NLS;

/** User-visible strings of io.hprobe.rcp (messages.properties beside this class). */
@NonNullByDefault({}) // NLS fills the fields reflectively, which null analysis cannot see
public final class Messages extends NLS {

    private static final String BUNDLE_NAME = "io.hprobe.rcp.messages"; //$NON-NLS-1$

    public static String Menu_file;
    public static String Menu_edit;
    public static String Menu_help;
    public static String Menu_window;
    public static String Menu_showView;

    static {
        NLS.initializeMessages(BUNDLE_NAME, Messages.class);
    }

    private Messages() {
    }
}
