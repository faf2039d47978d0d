package io.hprobe.ui.views;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.text.FieldPosition;
import java.text.NumberFormat;
import java.text.ParsePosition;
import java.util.List;

import org.eclipse.jdt.annotation.Nullable;
import org.eclipse.osgi.util.NLS;
import org.eclipse.swt.SWT;
import org.eclipse.swt.custom.SashForm;
import org.eclipse.swt.layout.GridData;
import org.eclipse.swt.layout.GridLayout;
import org.eclipse.swt.widgets.Composite;
import org.eclipse.swt.widgets.Control;
import org.eclipse.swt.widgets.Label;
import org.jfree.chart.ChartMouseEvent;
import org.jfree.chart.ChartMouseListener;
import org.jfree.chart.JFreeChart;
import org.jfree.chart.axis.LogAxis;
import org.jfree.chart.axis.NumberAxis;
import org.jfree.chart.axis.NumberTickUnit;
import org.jfree.chart.entity.XYItemEntity;
import org.jfree.chart.plot.ValueMarker;
import org.jfree.chart.plot.XYPlot;
import org.jfree.chart.renderer.xy.StandardXYBarPainter;
import org.jfree.chart.renderer.xy.XYBarRenderer;
import org.jfree.chart.renderer.xy.XYLineAndShapeRenderer;
import org.jfree.chart.swt.ChartComposite;
import org.jfree.chart.ui.RectangleAnchor;
import org.jfree.chart.ui.TextAnchor;
import org.jfree.data.xy.XYIntervalSeries;
import org.jfree.data.xy.XYIntervalSeriesCollection;
import org.jfree.data.xy.XYSeries;
import org.jfree.data.xy.XYSeriesCollection;

import io.hprobe.core.model.HitStore;
import io.hprobe.core.model.ModelChange;
import io.hprobe.core.model.Probe;
import io.hprobe.core.model.Vm;
import io.hprobe.core.timeline.Latencies;
import io.hprobe.ui.HProbeUi;
import io.hprobe.ui.Messages;
import io.hprobe.ui.internal.Format;
import io.hprobe.ui.internal.HitSelection;
import io.hprobe.ui.internal.ProbeCombo;
import io.hprobe.ui.internal.SelectionProvider;

/**
 * A return probe's latencies (io.hprobe.core.timeline.Latencies): a power-of-two histogram with the p50,
 * p90 and p99 marked, as bpftrace's hist() and the agent's aggregations bucket them, and the calls over
 * time, each pixel column's fastest and slowest. A click on a call selects it (Properties) and marks it on
 * the Hit Timeline. The figures are the hits the workbench holds, the same the timeline draws.
 */
public class LatencyView extends HProbeView {

    public static final String ID = "io.hprobe.ui.latency"; //$NON-NLS-1$
    private static final int SCATTER_COLUMNS = 800;
    private static final Color BARS = new Color(0x3b, 0x7d, 0xd8);

    private @Nullable ProbeCombo probes;
    private @Nullable Label status;
    private @Nullable JFreeChart histogram;
    private final XYIntervalSeriesCollection bars = new XYIntervalSeriesCollection();
    private final XYSeriesCollection calls = new XYSeriesCollection();
    private final SelectionProvider selection = new SelectionProvider();
    private Latencies shown = Latencies.NONE;
    /** The store indexes of the scatter's items, in its order (the evicted left out). */
    private long[] plotted = new long[0];

    @Override
    protected Control createContents(Composite parent) {
        Composite top = new Composite(parent, SWT.NONE);
        top.setLayout(new GridLayout(3, false));
        new Label(top, SWT.NONE).setText(Messages.Latency_probe);
        ProbeCombo pc = new ProbeCombo(top);
        pc.combo().setLayoutData(new GridData(SWT.FILL, SWT.CENTER, false, false));
        pc.combo().addListener(SWT.Selection, e -> requestRefresh());
        probes = pc;
        Label s = new Label(top, SWT.NONE);
        s.setLayoutData(new GridData(SWT.FILL, SWT.CENTER, true, false));
        status = s;
        SashForm sash = new SashForm(top, SWT.HORIZONTAL);
        sash.setLayoutData(new GridData(SWT.FILL, SWT.FILL, true, true, 3, 1));
        histogram = chart(sash, histogramPlot()).getChart();
        ChartComposite sc = chart(sash, scatterPlot());
        sc.addChartMouseListener(new ChartMouseListener() {

            @Override
            public void chartMouseClicked(ChartMouseEvent event) {
                clicked(event);
            }

            @Override
            public void chartMouseMoved(ChartMouseEvent event) {
                // tooltips only
            }
        });
        sash.setWeights(45, 55);
        getSite().setSelectionProvider(selection);
        return top;
    }

    private static ChartComposite chart(Composite parent, XYPlot plot) {
        plot.setBackgroundPaint(Color.WHITE);
        plot.setDomainGridlinePaint(new Color(220, 220, 220));
        plot.setRangeGridlinePaint(new Color(220, 220, 220));
        JFreeChart c = new JFreeChart(null, new Font(Font.SANS_SERIF, Font.PLAIN, 12), plot, false);
        c.setBackgroundPaint(Color.WHITE);
        ChartComposite cc = new ChartComposite(parent, SWT.NONE, c, ChartComposite.DEFAULT_WIDTH,
                ChartComposite.DEFAULT_HEIGHT, 100, 80, 4000, 3000, true, false, false, false, true, true);
        cc.setRangeZoomable(false);
        return cc;
    }

    /** Bars over [k, k+1) for [2^k, 2^(k+1)) ns; the axis labels 2^x as a duration. */
    private XYPlot histogramPlot() {
        NumberAxis x = new NumberAxis(Messages.Latency_latency);
        x.setNumberFormatOverride(new PowerOfTwoFormat());
        x.setTickUnit(new NumberTickUnit(2));
        x.setAutoRangeIncludesZero(false);
        XYBarRenderer r = new XYBarRenderer(0.05);
        r.setBarPainter(new StandardXYBarPainter()); // flat, as the Aggregation view's
        r.setShadowVisible(false);
        r.setSeriesPaint(0, BARS);
        r.setDefaultToolTipGenerator((ds, s, i) -> NLS.bind("{0} – {1}: {2}", new Object[]{ //$NON-NLS-1$
                Format.duration(1L << (long) ds.getXValue(s, i)), Format.duration(2L << (long) ds.getXValue(s, i)),
                (long) ds.getYValue(s, i) }));
        NumberAxis y = new NumberAxis(Messages.Latency_calls);
        y.setStandardTickUnits(NumberAxis.createIntegerTickUnits()); // calls are whole
        XYPlot plot = new XYPlot(bars, x, y, r);
        plot.setNoDataMessage(Messages.Latency_empty);
        return plot;
    }

    private XYPlot scatterPlot() {
        NumberAxis time = new NumberAxis(Messages.Latency_time);
        time.setAutoRangeIncludesZero(false);
        LogAxis lat = new LogAxis(Messages.Latency_ns);
        lat.setBase(2);
        lat.setNumberFormatOverride(new DurationFormat());
        lat.setAutoTickUnitSelection(false);
        lat.setTickUnit(new NumberTickUnit(2)); // every power of four, as the histogram's axis
        XYLineAndShapeRenderer r = new XYLineAndShapeRenderer(false, true);
        r.setSeriesPaint(0, BARS);
        r.setSeriesShape(0, new java.awt.geom.Ellipse2D.Double(-2.5, -2.5, 5, 5));
        r.setDefaultToolTipGenerator((ds, s, i) -> NLS.bind(Messages.Latency_tip, new Object[]{ shownProbeLabel(),
                Format.duration((long) ds.getYValue(s, i)), String.format("%.6f", ds.getXValue(s, i)) })); //$NON-NLS-1$
        XYPlot plot = new XYPlot(calls, time, lat, r);
        plot.setNoDataMessage(Messages.Latency_empty);
        return plot;
    }

    /** The clicked call: selected for the Properties view, and marked on the Hit Timeline. */
    private void clicked(ChartMouseEvent e) {
        if (e.getEntity() instanceof XYItemEntity item && item.getSeriesIndex() == 0) {
            selectCall(item.getItem());
        }
    }

    /** Selects the scatter's i-th point (the UI tests' way in, as a click is). */
    public void selectCall(int i) {
        Vm vm = vm();
        long[] pts = plotted;
        if (vm == null || i < 0 || i >= pts.length || pts[i] < vm.hits().first()) {
            return;
        }
        HitSelection.select(selection, vm, pts[i], 1);
        HProbeUi.context().focusTime(vm, vm.hits().time(pts[i]), pts[i]);
    }

    /** Shows this probe (the UI tests' way in, as the combo is). */
    public void select(int probe) {
        refresh();
        ProbeCombo c = probes;
        if (c != null && c.select(probe)) {
            refresh();
        }
    }

    /** What the view shows now (UI thread). */
    public Latencies latencies() {
        return shown;
    }

    private String shownProbeLabel() {
        Vm vm = vm();
        Integer id = selectedProbe();
        Probe p = vm == null || id == null ? null : vm.probe(id);
        return p == null ? "" : "#" + p.id() + " " + p.label(); //$NON-NLS-1$ //$NON-NLS-2$ //$NON-NLS-3$
    }

    private @Nullable Integer selectedProbe() {
        ProbeCombo c = probes;
        return c == null ? null : c.selected();
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
        ProbeCombo c = probes;
        Label s = status;
        if (c == null || s == null || s.isDisposed()) {
            return;
        }
        Vm vm = vm();
        if (c.show(vm == null ? List.of() : vm.probes(), Probe::isReturn,
                p -> NLS.bind(Messages.Latency_item, p.id(), p.label()))) {
            s.getParent().layout();
        }
        Integer id = selectedProbe();
        if (vm == null || id == null) {
            show(null, Latencies.NONE);
            s.setText(vm == null ? Messages.Timeline_noVm : Messages.Latency_none);
            return;
        }
        HitStore store = vm.hits();
        // every call held, from the probe's first hit to its last, within the timeline's range
        long[] span = store.perProbe().get(id);
        long from = span == null ? 0 : ranged() ? Math.max(span[1], rangeFrom()) : span[1];
        long to = span == null ? 0 : ranged() ? Math.min(span[2] + 1, rangeTo()) : span[2] + 1;
        Latencies l = span == null || store.count() == 0 || from >= to
                ? Latencies.NONE
                : Latencies.of(store, id, from, to, SCATTER_COLUMNS);
        show(vm, l);
        String text = l.count() == 0
                ? Messages.Latency_empty
                : NLS.bind(Messages.Latency_status, new Object[]{ l.count(), Format.duration(l.p50()),
                        Format.duration(l.p90()), Format.duration(l.p99()), Format.duration(l.max()) });
        s.setText(inRange(text));
        s.getParent().layout();
    }

    private void show(@Nullable Vm vm, Latencies l) {
        shown = l;
        plotted = new long[0];
        bars.removeAllSeries();
        calls.removeAllSeries();
        JFreeChart h = histogram;
        if (h != null) {
            h.getXYPlot().clearDomainMarkers();
        }
        if (vm == null || l.count() == 0 || h == null) {
            return;
        }
        XYIntervalSeries b = new XYIntervalSeries(Messages.Latency_calls);
        for (int k = l.firstBucket(); k <= l.lastBucket(); k++) {
            b.add(k + 0.5, k, k + 1, l.buckets()[k], 0, l.buckets()[k]);
        }
        bars.addSeries(b);
        mark(h.getXYPlot(), "p50", l.p50()); //$NON-NLS-1$
        mark(h.getXYPlot(), "p90", l.p90()); //$NON-NLS-1$
        mark(h.getXYPlot(), "p99", l.p99()); //$NON-NLS-1$
        XYSeries pts = new XYSeries(Messages.Latency_ns, false, true);
        HitStore store = vm.hits();
        long origin = vm.timeOriginNs() == Long.MIN_VALUE ? 0 : vm.timeOriginNs();
        long[] kept = new long[l.points().length];
        int n = 0;
        for (long i : l.points()) {
            if (i >= store.first()) {
                pts.add((store.time(i) - origin) / 1e9, Math.max(1, store.latency(i)));
                kept[n++] = i;
            }
        }
        plotted = java.util.Arrays.copyOf(kept, n);
        calls.addSeries(pts);
    }

    /** A percentile's line, where its latency falls among the buckets (log2: inside its bar). */
    private static void mark(XYPlot plot, String label, long ns) {
        ValueMarker m = new ValueMarker(Math.log(Math.max(1, ns)) / Math.log(2), new Color(0xc0, 0x39, 0x2b),
                new BasicStroke(1.2f));
        m.setLabel(label);
        m.setLabelFont(new Font(Font.SANS_SERIF, Font.PLAIN, 10));
        m.setLabelAnchor(RectangleAnchor.TOP_RIGHT);
        m.setLabelTextAnchor(TextAnchor.TOP_LEFT);
        plot.addDomainMarker(m);
    }

    /** 2^x ns as a duration: the histogram's bucket edges. */
    private static final class PowerOfTwoFormat extends NumberFormat {

        private static final long serialVersionUID = 1L;

        @Override
        public StringBuffer format(double x, StringBuffer to, FieldPosition pos) {
            return x < 0 || x > 62 ? to : to.append(Format.duration(1L << Math.round(x)));
        }

        @Override
        public StringBuffer format(long x, StringBuffer to, FieldPosition pos) {
            return format((double) x, to, pos);
        }

        @Override
        public @Nullable Number parse(String source, ParsePosition pos) {
            return null;
        }
    }

    /** ns as a duration: the scatter's latency axis. */
    private static final class DurationFormat extends NumberFormat {

        private static final long serialVersionUID = 1L;

        @Override
        public StringBuffer format(double ns, StringBuffer to, FieldPosition pos) {
            return to.append(Format.duration(Math.round(ns)));
        }

        @Override
        public StringBuffer format(long ns, StringBuffer to, FieldPosition pos) {
            return to.append(Format.duration(ns));
        }

        @Override
        public @Nullable Number parse(String source, ParsePosition pos) {
            return null;
        }
    }

    @Override
    public void setFocus() {
        ProbeCombo c = probes;
        if (c != null) {
            c.combo().setFocus();
        }
    }
}
