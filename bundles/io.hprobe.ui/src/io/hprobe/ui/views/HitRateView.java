package io.hprobe.ui.views;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.util.Set;

import org.eclipse.jdt.annotation.Nullable;
import org.eclipse.osgi.util.NLS;
import org.eclipse.swt.SWT;
import org.eclipse.swt.layout.GridData;
import org.eclipse.swt.layout.GridLayout;
import org.eclipse.swt.widgets.Composite;
import org.eclipse.swt.widgets.Control;
import org.eclipse.swt.widgets.Label;
import org.jfree.chart.JFreeChart;
import org.jfree.chart.axis.NumberAxis;
import org.jfree.chart.plot.XYPlot;
import org.jfree.chart.renderer.xy.XYStepRenderer;
import org.jfree.chart.swt.ChartComposite;
import org.jfree.data.xy.XYSeries;
import org.jfree.data.xy.XYSeriesCollection;

import io.hprobe.core.model.HitStore;
import io.hprobe.core.model.ModelChange;
import io.hprobe.core.model.Probe;
import io.hprobe.core.model.Vm;
import io.hprobe.core.timeline.LaneMode;
import io.hprobe.core.timeline.Timeline;
import io.hprobe.core.timeline.TimelineAggregator;
import io.hprobe.ui.Messages;

/**
 * Each probe's hits per second over time, a line per probe: where a rate changed, which the Hit Timeline's
 * points do not tell once they are dense. Counted by the Hit Timeline's bucketing (TimelineAggregator) over
 * the hits the workbench holds, in the Hit Timeline's range while it has one, else from the first to the
 * last hit.
 */
public class HitRateView extends HProbeView {

    public static final String ID = "io.hprobe.ui.hitRate"; //$NON-NLS-1$
    /** Buckets across the range: a rate per 1/120 of it. */
    static final int BUCKETS = 120;
    /** Lines that stay apart and readable on white (JFreeChart's default has a pale yellow). */
    private static final Color[] LINES = { new Color(0x1f77b4), new Color(0xff7f0e), new Color(0x2ca02c),
            new Color(0xd62728), new Color(0x9467bd), new Color(0x8c564b), new Color(0xe377c2), new Color(0x7f7f7f),
            new Color(0xbcbd22), new Color(0x17becf) };

    private @Nullable Label status;
    private final XYSeriesCollection rates = new XYSeriesCollection();
    private @Nullable Timeline shown;

    @Override
    protected Control createContents(Composite parent) {
        Composite top = new Composite(parent, SWT.NONE);
        top.setLayout(new GridLayout(1, false));
        Label s = new Label(top, SWT.NONE);
        s.setLayoutData(new GridData(SWT.FILL, SWT.CENTER, true, false));
        status = s;
        NumberAxis time = new NumberAxis(Messages.HitRate_time);
        time.setAutoRangeIncludesZero(false);
        NumberAxis rate = new NumberAxis(Messages.HitRate_rate);
        XYStepRenderer r = new XYStepRenderer();
        r.setDefaultStroke(new BasicStroke(1.5f));
        r.setAutoPopulateSeriesStroke(false);
        for (int i = 0; i < LINES.length; i++) {
            r.setSeriesPaint(i, LINES[i]);
        }
        r.setDefaultToolTipGenerator((ds, series, i) -> NLS.bind(Messages.HitRate_tip,
                new Object[]{ ds.getSeriesKey(series), String.format("%.0f", ds.getYValue(series, i)), //$NON-NLS-1$
                        String.format("%.3f", ds.getXValue(series, i)) })); //$NON-NLS-1$
        XYPlot plot = new XYPlot(rates, time, rate, r);
        plot.setBackgroundPaint(Color.WHITE);
        plot.setDomainGridlinePaint(new Color(220, 220, 220));
        plot.setRangeGridlinePaint(new Color(220, 220, 220));
        plot.setNoDataMessage(Messages.HitRate_empty);
        JFreeChart c = new JFreeChart(null, new Font(Font.SANS_SERIF, Font.PLAIN, 12), plot, true);
        c.setBackgroundPaint(Color.WHITE);
        ChartComposite cc = new ChartComposite(top, SWT.NONE, c, ChartComposite.DEFAULT_WIDTH,
                ChartComposite.DEFAULT_HEIGHT, 100, 80, 4000, 3000, true, false, false, false, true, true);
        cc.setRangeZoomable(false);
        cc.setLayoutData(new GridData(SWT.FILL, SWT.FILL, true, true));
        return top;
    }

    /** What the view counted last (UI thread); null before any hit. */
    public @Nullable Timeline shown() {
        return shown;
    }

    @Override
    protected boolean followsTimeRange() {
        return true;
    }

    @Override
    protected boolean matters(ModelChange change) {
        return hitsOrProbes(change);
    }

    @Override
    protected int refreshPeriodMs() {
        return 500;
    }

    @Override
    protected void refresh() {
        Label s = status;
        if (s == null || s.isDisposed()) {
            return;
        }
        Vm vm = vm();
        rates.removeAllSeries();
        shown = null;
        if (vm == null) {
            s.setText(Messages.Timeline_noVm);
            return;
        }
        HitStore store = vm.hits();
        long from = Long.MAX_VALUE, to = Long.MIN_VALUE;
        for (long[] span : store.perProbe().values()) {
            from = Math.min(from, span[1]);
            to = Math.max(to, span[2] + 1);
        }
        if (ranged()) {
            from = rangeFrom();
            to = rangeTo();
        }
        if (store.count() == 0 || from >= to) {
            s.setText(Messages.HitRate_empty);
            return;
        }
        Timeline t = TimelineAggregator.aggregate(store, from, to, BUCKETS, LaneMode.PROBE, Set.of());
        shown = t;
        long origin = vm.timeOriginNs() == Long.MIN_VALUE ? 0 : vm.timeOriginNs();
        double perSecond = 1e9 / t.bucketWidthNs();
        double peak = 0;
        String peakProbe = ""; //$NON-NLS-1$
        for (int lane = 0; lane < t.laneKeys().length; lane++) {
            XYSeries series = new XYSeries(label(vm, t.laneKeys()[lane]), false, true);
            int[] counts = t.counts()[lane];
            for (int b = 0; b < counts.length; b++) {
                double r = counts[b] * perSecond;
                series.add((t.bucketStart(b) - origin) / 1e9, r);
                if (r > peak) {
                    peak = r;
                    peakProbe = (String) series.getKey();
                }
            }
            rates.addSeries(series);
        }
        String text = NLS.bind(Messages.HitRate_status, new Object[]{ t.total(), t.laneKeys().length,
                String.format("%.0f", peak), peakProbe, String.format("%.3g", t.bucketWidthNs() / 1e9) }); //$NON-NLS-1$ //$NON-NLS-2$
        s.setText(inRange(text));
        s.getParent().layout();
    }

    private static String label(Vm vm, int id) {
        Probe p = vm.probeOfHit(id);
        return p == null ? "#" + id : "#" + id + " " + p.label(); //$NON-NLS-1$ //$NON-NLS-2$
    }

    @Override
    public void setFocus() {
        Label s = status;
        if (s != null) {
            s.setFocus();
        }
    }
}
