package io.hprobe.ui;

import org.eclipse.jdt.annotation.NonNullByDefault;
import org.eclipse.osgi.util.NLS;

/** User-visible strings of io.hprobe.ui (messages.properties beside this class). */
@NonNullByDefault({}) // NLS fills the fields reflectively, which null analysis cannot see
public final class Messages extends NLS {

    private static final String BUNDLE_NAME = "io.hprobe.ui.messages"; //$NON-NLS-1$

    public static String NotImplementedYet;
    public static String VmBrowserView_placeholder;
    public static String ProbeEditorView_placeholder;
    public static String ProbesView_placeholder;
    public static String HitsView_placeholder;
    public static String DetectorsView_placeholder;
    public static String AlertsView_placeholder;
    public static String HitTimelineView_title;
    public static String HitTimelineView_timeAxis;
    public static String HitTimelineView_hitsAxis;
    public static String HitTimelineView_noData;
    public static String HitTimelineView_description;

    static {
        NLS.initializeMessages(BUNDLE_NAME, Messages.class);
    }

    private Messages() {
    }
}
