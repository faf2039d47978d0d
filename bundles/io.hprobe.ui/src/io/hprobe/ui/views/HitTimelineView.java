package io.hprobe.ui.views;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.Shape;
import java.awt.geom.Rectangle2D;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Set;

import org.eclipse.jdt.annotation.Nullable;
import org.eclipse.jface.action.Action;
import org.eclipse.jface.action.IAction;
import org.eclipse.jface.action.IToolBarManager;
import org.eclipse.jface.action.Separator;
import org.eclipse.jface.resource.ImageDescriptor;
import org.eclipse.osgi.util.NLS;
import org.eclipse.swt.SWT;
import org.eclipse.swt.layout.FillLayout;
import org.eclipse.swt.widgets.Composite;
import org.eclipse.swt.widgets.Control;
import org.eclipse.swt.widgets.Event;
import org.eclipse.swt.widgets.FileDialog;
import org.jfree.chart.ChartMouseEvent;
import org.jfree.chart.ChartMouseListener;
import org.jfree.chart.JFreeChart;
import org.jfree.chart.axis.NumberAxis;
import org.jfree.chart.axis.SymbolAxis;
import org.jfree.chart.entity.ChartEntity;
import org.jfree.chart.entity.XYItemEntity;
import org.jfree.chart.plot.ValueMarker;
import org.jfree.chart.plot.XYPlot;
import org.jfree.chart.renderer.xy.XYLineAndShapeRenderer;
import org.jfree.chart.swt.ChartComposite;
import org.jfree.data.Range;

import io.hprobe.core.model.HitStore;
import io.hprobe.core.model.ModelChange;
import io.hprobe.core.model.Probe;
import io.hprobe.core.model.Vm;
import io.hprobe.core.timeline.LaneMode;
import io.hprobe.core.timeline.Timeline;
import io.hprobe.core.timeline.TimelineAggregator;
import io.hprobe.ui.HProbeUi;
import io.hprobe.ui.Messages;
import io.hprobe.ui.UiContext;
import io.hprobe.ui.internal.ChartImages;
import io.hprobe.ui.internal.ErrorDialogs;
import io.hprobe.ui.internal.HitSelection;
import io.hprobe.ui.internal.Images;
import io.hprobe.ui.internal.SelectionProvider;
import io.hprobe.ui.preferences.Prefs;

/**
 * Probe hits over time, one lane per probe or per process. Hits are bucketed to one cell per pixel column
 * (io.hprobe.core.timeline), so a million of them redraw as a few thousand points; a point's height grows
 * with the hits it stands for. Follow-live keeps the last N seconds in view; zoom (drag, wheel, buttons)
 * and pan re-bucket the visible range. Clicking a point shows its first hit in the Properties view.
 */
public class HitTimelineView extends HProbeView {

    public static final String ID = "io.hprobe.ui.hitTimeline"; //$NON-NLS-1$

    private @Nullable ChartComposite chartComposite;
    private @Nullable JFreeChart chart;
    private @Nullable TimelineDataset dataset;
    private final SelectionProvider selection = new SelectionProvider();
    private LaneMode mode = Prefs.laneMode();
    private boolean follow = true;
    /** Visible range in seconds since the VM's origin; null = everything. */
    private @Nullable Range view;
    private boolean settingRange;
    /** The range refresh() last gave the time axis. */
    private @Nullable Range lastSet;
    private @Nullable ValueMarker marker;
    private @Nullable Action followAction;

    @Override
    protected Control createContents(Composite parent) {
        parent.setLayout(new FillLayout());
        NumberAxis time = new NumberAxis(Messages.Timeline_time);
        time.setAutoRangeIncludesZero(false);
        SymbolAxis lanes = new SymbolAxis("", new String[0]); //$NON-NLS-1$
        lanes.setGridBandsVisible(true);
        XYLineAndShapeRenderer renderer = new Renderer();
        renderer.setDefaultToolTipGenerator(
                (ds, s, i) -> ds instanceof TimelineDataset t
                        ? NLS.bind(Messages.Timeline_tip,
                                new Object[]{ t.getSeriesKey(s), t.count(s, i),
                                        String.format("%.6f", t.getXValue(s, i)) }) //$NON-NLS-1$
                        : ""); //$NON-NLS-1$
        XYPlot plot = new XYPlot(null, time, lanes, renderer);
        plot.setBackgroundPaint(Color.WHITE);
        plot.setDomainGridlinePaint(new Color(220, 220, 220));
        plot.setRangeGridlinesVisible(false);
        plot.setNoDataMessage(Messages.Timeline_noData);
        // no legend: the lanes are labelled on the axis
        JFreeChart c = new JFreeChart(null, new Font(Font.SANS_SERIF, Font.PLAIN, 12), plot, false);
        c.setBackgroundPaint(Color.WHITE);
        chart = c;
        // no Properties/Save/Print entries: jfreechart-swt 1.0's Save As is broken with JFreeChart 1.5
        ChartComposite cc = new ChartComposite(parent, SWT.NONE, c, ChartComposite.DEFAULT_WIDTH,
                ChartComposite.DEFAULT_HEIGHT, 100, 80, 4000, 3000, true, false, false, false, true, true);
        cc.setRangeZoomable(false);
        chartComposite = cc;
        time.addChangeListener(e -> {
            // the user zoomed: keep that range and re-bucket it. The chart also re-announces the
            // range refresh() set (a redraw, a resize): that is no zoom, and must not stop following
            if (!settingRange && !time.getRange().equals(lastSet)) {
                follow = false;
                syncFollowAction();
                view = time.getRange();
                announceRange();
                requestRefresh();
            }
        });
        cc.addChartMouseListener(new ChartMouseListener() {

            @Override
            public void chartMouseClicked(ChartMouseEvent event) {
                select(event.getEntity());
            }

            @Override
            public void chartMouseMoved(ChartMouseEvent event) {
                // tooltips only
            }
        });
        cc.addListener(SWT.MouseVerticalWheel, this::wheel);
        getSite().setSelectionProvider(selection);
        makeActions();
        cc.addListener(SWT.Resize, e -> requestRefresh());
        return cc;
    }

    /** Points whose height grows with the log of the hits they stand for. */
    private static final class Renderer extends XYLineAndShapeRenderer {

        private static final long serialVersionUID = 1L;

        Renderer() {
            super(false, true);
            setDefaultShapesFilled(true);
            setDrawOutlines(false);
        }

        @Override
        public Shape getItemShape(int row, int column) {
            if (getPlot() != null && getPlot().getDataset() instanceof TimelineDataset t && row < t.getSeriesCount()) {
                int n = t.count(row, column);
                double h = Math.min(26, 12 + 3 * Math.log(n) / Math.log(2));
                return new Rectangle2D.Double(-1.5, -h / 2, 3, h);
            }
            return new Rectangle2D.Double(-1.5, -6, 3, 12);
        }
    }

    private void makeActions() {
        IToolBarManager tb = getViewSite().getActionBars().getToolBarManager();
        Action followLive = new Action(Messages.Timeline_follow, IAction.AS_CHECK_BOX) {

            @Override
            public void run() {
                follow = isChecked();
                if (follow) {
                    view = null;
                    announceRange();
                }
                requestRefresh();
            }
        };
        followLive.setChecked(true);
        followLive.setImageDescriptor(Images.own("follow")); //$NON-NLS-1$
        followLive.setToolTipText(Messages.Timeline_followTip);
        followAction = followLive;
        Action lanes = new Action(Messages.Timeline_byProcess, IAction.AS_CHECK_BOX) {

            @Override
            public void run() {
                mode = isChecked() ? LaneMode.PROCESS : LaneMode.PROBE;
                requestRefresh();
            }
        };
        lanes.setChecked(mode == LaneMode.PROCESS);
        lanes.setImageDescriptor(Images.own("lanes")); //$NON-NLS-1$
        lanes.setToolTipText(Messages.Timeline_byProcessTip);
        tb.add(followLive);
        tb.add(lanes);
        tb.add(new Separator());
        tb.add(simple(Messages.Timeline_zoomIn, Messages.Timeline_zoomInTip, Images.own("zoom_in"), () -> zoom(0.5))); //$NON-NLS-1$
        tb.add(simple(Messages.Timeline_zoomOut, Messages.Timeline_zoomOutTip, Images.own("zoom_out"), () -> zoom(2))); //$NON-NLS-1$
        tb.add(simple(Messages.Timeline_panLeft, Messages.Timeline_panLeftTip,
                Images.platform("icons/full/elcl16/backward_nav.svg"), () -> pan(-0.25))); //$NON-NLS-1$
        tb.add(simple(Messages.Timeline_panRight, Messages.Timeline_panRightTip,
                Images.platform("icons/full/elcl16/forward_nav.svg"), () -> pan(0.25))); //$NON-NLS-1$
        tb.add(simple(Messages.Timeline_all, Messages.Timeline_allTip, Images.own("zoom_all"), this::showAll)); //$NON-NLS-1$
        tb.add(new Separator());
        tb.add(simple(Messages.Timeline_png, Messages.Timeline_pngTip, Images.own("save_png"), () -> save(false))); //$NON-NLS-1$
        tb.add(simple(Messages.Timeline_svg, Messages.Timeline_svgTip, Images.own("save_svg"), () -> save(true))); //$NON-NLS-1$
    }

    private static Action simple(String text, String tip, ImageDescriptor image, Runnable run) {
        Action a = new Action(text) {

            @Override
            public void run() {
                run.run();
            }
        };
        a.setToolTipText(tip);
        a.setImageDescriptor(image);
        return a;
    }

    private void syncFollowAction() {
        Action a = followAction;
        if (a != null) {
            a.setChecked(follow);
        }
    }

    private @Nullable Range currentRange() {
        JFreeChart c = chart;
        return c == null ? null : c.getXYPlot().getDomainAxis().getRange();
    }

    private void zoom(double factor) {
        Range r = currentRange();
        if (r != null) {
            double mid = r.getCentralValue(), half = r.getLength() * factor / 2;
            setView(new Range(mid - half, mid + half));
        }
    }

    private void pan(double fraction) {
        Range r = currentRange();
        if (r != null) {
            double d = r.getLength() * fraction;
            setView(new Range(r.getLowerBound() + d, r.getUpperBound() + d));
        }
    }

    private void wheel(Event e) {
        ChartComposite cc = chartComposite;
        Range r = currentRange();
        if (cc == null || r == null || e.count == 0) {
            return;
        }
        org.eclipse.swt.graphics.Rectangle area = cc.getScreenDataArea();
        if ((e.stateMask & SWT.SHIFT) != 0) {
            pan(e.count > 0 ? -0.1 : 0.1);
            return;
        }
        double frac = area.width > 0 ? Math.max(0, Math.min(1, (e.x - area.x) / (double) area.width)) : 0.5;
        double anchor = r.getLowerBound() + frac * r.getLength();
        double f = e.count > 0 ? 0.8 : 1.25;
        setView(new Range(anchor - (anchor - r.getLowerBound()) * f, anchor + (r.getUpperBound() - anchor) * f));
    }

    private void setView(Range r) {
        follow = false;
        syncFollowAction();
        view = r;
        announceRange();
        requestRefresh();
    }

    private void showAll() {
        follow = false;
        syncFollowAction();
        view = null;
        announceRange();
        requestRefresh();
    }

    /** Tells the other views (Latency) the range shown: a zoomed one, or every hit. */
    private void announceRange() {
        Vm vm = vm();
        Range r = view;
        if (vm == null) {
            return;
        }
        if (r == null || follow) {
            HProbeUi.context().timeRange(vm, UiContext.ALL, UiContext.ALL);
        } else {
            long o = origin(vm);
            HProbeUi.context().timeRange(vm, o + (long) (r.getLowerBound() * 1e9),
                    o + (long) (r.getUpperBound() * 1e9));
        }
    }

    private void select(@Nullable ChartEntity entity) {
        Vm vm = vm();
        TimelineDataset ds = dataset;
        if (vm == null || ds == null || !(entity instanceof XYItemEntity item)) {
            return;
        }
        long index = ds.firstHit(item.getSeriesIndex(), item.getItem());
        if (index >= 0) {
            HitSelection.select(selection, vm, index, ds.count(item.getSeriesIndex(), item.getItem()));
            mark(ds.getXValue(item.getSeriesIndex(), item.getItem()), Color.BLUE);
        }
    }

    private void mark(double x, Color color) {
        JFreeChart c = chart;
        if (c == null) {
            return;
        }
        XYPlot plot = c.getXYPlot();
        ValueMarker old = marker;
        if (old != null) {
            plot.removeDomainMarker(old);
        }
        ValueMarker m = new ValueMarker(x, color, new BasicStroke(1.5f));
        plot.addDomainMarker(m);
        marker = m;
    }

    @Override
    public void focusTime(Vm vm, long timeNs, long hitIndex) {
        long origin = origin(vm);
        double t = (timeNs - origin) / 1e9;
        double half = Math.max(0.5, Prefs.windowSeconds() / 20.0);
        setView(new Range(t - half, t + half));
        mark(t, new Color(Prefs.color(Prefs.COLOR_ALERT).red, Prefs.color(Prefs.COLOR_ALERT).green,
                Prefs.color(Prefs.COLOR_ALERT).blue));
        if (hitIndex >= 0) {
            HitSelection.select(selection, vm, hitIndex, 1);
        }
    }

    @Override
    public void vmSelected(@Nullable Vm vm) {
        follow = true;
        view = null;
        syncFollowAction();
        JFreeChart c = chart;
        ValueMarker m = marker;
        if (c != null && m != null) {
            c.getXYPlot().removeDomainMarker(m);
        }
        requestRefresh();
    }

    private static long origin(Vm vm) {
        long o = vm.timeOriginNs();
        return o == Long.MIN_VALUE ? 0 : o;
    }

    @Override
    protected boolean matters(ModelChange change) {
        return hitsOrProbes(change);
    }

    @Override
    protected int refreshPeriodMs() {
        return 250;
    }

    @Override
    protected void refresh() {
        ChartComposite cc = chartComposite;
        JFreeChart c = chart;
        if (cc == null || c == null || cc.isDisposed()) {
            return;
        }
        Vm vm = vm();
        XYPlot plot = c.getXYPlot();
        if (vm == null || vm.hits().count() == 0) {
            dataset = null;
            plot.setDataset(null);
            setContentDescription(vm == null ? Messages.Timeline_noVm : NLS.bind(Messages.Timeline_empty, vm.name()));
            return;
        }
        HitStore store = vm.hits();
        long origin = origin(vm);
        long firstNs = store.time(store.first()), lastNs = store.time(store.size() - 1);
        long fromNs, toNs;
        Range r = view;
        if (follow) {
            toNs = lastNs + 1;
            fromNs = Math.max(firstNs, toNs - Prefs.windowSeconds() * 1_000_000_000L);
        } else if (r != null) {
            fromNs = origin + (long) (r.getLowerBound() * 1e9);
            toNs = origin + (long) (r.getUpperBound() * 1e9);
        } else {
            fromNs = firstNs;
            toNs = lastNs + 1;
        }
        if (toNs <= fromNs) {
            toNs = fromNs + 1_000_000; // a single hit: show one millisecond around it
            fromNs -= 1_000_000;
        }
        int width = Math.max(100, cc.getScreenDataArea().width);
        Timeline t = TimelineAggregator.aggregate(store, fromNs, toNs, width, mode, Set.of());
        String[] names = laneNames(vm, t);
        TimelineDataset ds = new TimelineDataset(t, names, origin);
        dataset = ds;
        settingRange = true;
        try {
            plot.setRangeAxis(laneAxis(names));
            plot.setDataset(ds);
            NumberAxis time = (NumberAxis) plot.getDomainAxis();
            double lo = (fromNs - origin) / 1e9, hi = (toNs - origin) / 1e9;
            time.setRange(lo, hi);
            lastSet = time.getRange();
        } finally {
            settingRange = false;
        }
        setContentDescription(NLS.bind(Messages.Timeline_description,
                new Object[]{ vm.name(), t.total(), store.count(), follow ? Messages.Timeline_live : "" })); //$NON-NLS-1$
    }

    private static SymbolAxis laneAxis(String[] names) {
        SymbolAxis a = new SymbolAxis("", names); //$NON-NLS-1$
        a.setGridBandsVisible(true);
        a.setGridBandPaint(new Color(245, 245, 250));
        a.setTickLabelFont(new Font(Font.SANS_SERIF, Font.PLAIN, 11));
        return a;
    }

    private String[] laneNames(Vm vm, Timeline t) {
        int[] keys = t.laneKeys();
        String[] names = new String[keys.length];
        for (int i = 0; i < keys.length; i++) {
            if (mode == LaneMode.PROBE) {
                Probe p = vm.probeOfHit(keys[i]);
                names[i] = p == null ? "#" + keys[i] : "#" + keys[i] + " " + p.label(); //$NON-NLS-1$ //$NON-NLS-2$ //$NON-NLS-3$
            } else {
                names[i] = vm.hits().commOf(keys[i]) + " (" + keys[i] + ")"; //$NON-NLS-1$ //$NON-NLS-2$
            }
        }
        return names;
    }

    private void save(boolean svg) {
        JFreeChart c = chart;
        ChartComposite cc = chartComposite;
        if (c == null || cc == null) {
            return;
        }
        FileDialog d = new FileDialog(getSite().getShell(), SWT.SAVE);
        d.setOverwrite(true);
        d.setFilterExtensions(new String[]{ svg ? "*.svg" : "*.png" }); //$NON-NLS-1$ //$NON-NLS-2$
        d.setFileName(svg ? "timeline.svg" : "timeline.png"); //$NON-NLS-1$ //$NON-NLS-2$
        String f = d.open();
        if (f == null) {
            return;
        }
        try {
            org.eclipse.swt.graphics.Point size = cc.getSize();
            ChartImages.save(c, Path.of(f), svg, Math.max(640, size.x), Math.max(360, size.y));
        } catch (IOException e) {
            ErrorDialogs.show(getSite().getShell(), svg ? Messages.Timeline_svg : Messages.Timeline_png, e);
        }
    }

    @Override
    public void setFocus() {
        ChartComposite cc = chartComposite;
        if (cc != null) {
            cc.setFocus();
        }
    }
}
