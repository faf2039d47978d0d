package io.hprobe.ui.views;

import org.eclipse.jdt.annotation.Nullable;
import org.eclipse.swt.SWT;
import org.eclipse.swt.layout.FillLayout;
import org.eclipse.swt.widgets.Composite;
import org.eclipse.ui.part.ViewPart;
import org.jfree.chart.ChartFactory;
import org.jfree.chart.JFreeChart;
import org.jfree.chart.swt.ChartComposite;
import org.jfree.data.time.TimeSeriesCollection;

import io.hprobe.ui.Messages;

/**
 * Probe hits over time, drawn by JFreeChart inside SWT (jfreechart-swt ChartComposite). The dataset
 * stays empty until live hit batches from io.hprobe.core are wired in, and the chart says so.
 * <p>
 * The manifest imports org.jfree.data.xy although no type of it is named here: XYDataset is in the
 * signature of createTimeSeriesChart, and the class loader needs it even if the compiler does not.
 */
public class HitTimelineView extends ViewPart {

    public static final String ID = "io.hprobe.ui.hitTimeline"; //$NON-NLS-1$

    private @Nullable ChartComposite chartComposite;

    @Override
    public void createPartControl(Composite parent) {
        parent.setLayout(new FillLayout());
        TimeSeriesCollection hitsPerProbe = new TimeSeriesCollection();
        JFreeChart chart = ChartFactory.createTimeSeriesChart(Messages.HitTimelineView_title,
                Messages.HitTimelineView_timeAxis, Messages.HitTimelineView_hitsAxis, hitsPerProbe, true, true, false);
        chart.getXYPlot().setNoDataMessage(Messages.HitTimelineView_noData);
        chartComposite = new ChartComposite(parent, SWT.NONE, chart, true);
        setContentDescription(Messages.HitTimelineView_description);
    }

    /** The chart widget, or null before {@link #createPartControl(Composite)}. */
    public @Nullable ChartComposite getChartComposite() {
        return chartComposite;
    }

    @Override
    public void setFocus() {
        ChartComposite composite = chartComposite;
        if (composite != null) {
            composite.setFocus();
        }
    }
}
