package io.hprobe.rcp;

import org.eclipse.ui.IFolderLayout;
import org.eclipse.ui.IPageLayout;
import org.eclipse.ui.IPerspectiveFactory;

import io.hprobe.ui.views.AggregationView;
import io.hprobe.ui.views.AlertsView;
import io.hprobe.ui.views.ConsoleView;
import io.hprobe.ui.views.DetectorsView;
import io.hprobe.ui.views.HitRateView;
import io.hprobe.ui.views.HitTimelineView;
import io.hprobe.ui.views.HitsView;
import io.hprobe.ui.views.LatencyView;
import io.hprobe.ui.views.ProbeEditorView;
import io.hprobe.ui.views.ProbesView;
import io.hprobe.ui.views.VmBrowserView;
import io.hprobe.ui.views.VmStatsView;
import io.hprobe.ui.views.WelcomeView;

/**
 * The HProbe perspective: VM browser on the left, probe editor above the hit timeline in the centre,
 * probes/hits/alerts/console at the bottom, detectors and the hit properties on the right. The probe editor
 * is a view, so the editor area is hidden.
 */
public class Perspective implements IPerspectiveFactory {
    // a change of views or folders here: bump LayoutState.VERSION, so saved layouts start from this again

    public static final String ID = "io.hprobe.rcp.perspective"; //$NON-NLS-1$

    private static final String[] VIEWS = { VmBrowserView.ID, ProbeEditorView.ID, HitTimelineView.ID, ProbesView.ID,
            HitsView.ID, AlertsView.ID, DetectorsView.ID, ConsoleView.ID, AggregationView.ID, LatencyView.ID,
            HitRateView.ID, VmStatsView.ID, WelcomeView.ID, IPageLayout.ID_PROP_SHEET };

    @Override
    public void createInitialLayout(IPageLayout layout) {
        String editorArea = layout.getEditorArea();
        layout.setEditorAreaVisible(false);

        // ratio = share of the top/left part; left and right columns span the full height
        layout.addView(VmBrowserView.ID, IPageLayout.LEFT, 0.2f, editorArea);
        layout.addView(DetectorsView.ID, IPageLayout.RIGHT, 0.75f, editorArea);
        // hit details (timeline point, hits row) below the detectors
        layout.addView(IPageLayout.ID_PROP_SHEET, IPageLayout.BOTTOM, 0.5f, DetectorsView.ID);
        IFolderLayout bottom = layout.createFolder("io.hprobe.rcp.bottom", IPageLayout.BOTTOM, 0.72f, editorArea); //$NON-NLS-1$
        bottom.addView(ProbesView.ID);
        bottom.addView(HitsView.ID);
        bottom.addView(AlertsView.ID);
        bottom.addView(ConsoleView.ID);
        bottom.addView(AggregationView.ID);
        bottom.addView(LatencyView.ID);
        bottom.addView(HitRateView.ID);
        bottom.addView(VmStatsView.ID);
        bottom.addPlaceholder(IPageLayout.ID_PROGRESS_VIEW);
        // the hidden editor area gives its space to the probe editor, which shares it with the timeline
        // (the Welcome page, shown at the first start, opens in the probe editor's place)
        IFolderLayout centre = layout.createFolder("io.hprobe.rcp.centre", IPageLayout.TOP, 0.5f, editorArea); //$NON-NLS-1$
        centre.addView(ProbeEditorView.ID);
        centre.addPlaceholder(WelcomeView.ID);
        layout.addView(HitTimelineView.ID, IPageLayout.BOTTOM, 0.62f, "io.hprobe.rcp.centre"); //$NON-NLS-1$

        for (String id : VIEWS) {
            layout.addShowViewShortcut(id);
        }
        layout.addShowViewShortcut(IPageLayout.ID_PROGRESS_VIEW);
    }
}
