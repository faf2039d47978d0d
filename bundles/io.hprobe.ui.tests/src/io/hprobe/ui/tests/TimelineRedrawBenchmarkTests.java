package io.hprobe.ui.tests;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.awt.Graphics2D;
import java.awt.Rectangle;
import java.awt.image.BufferedImage;
import java.time.Duration;
import java.util.Arrays;
import java.util.Set;
import java.util.concurrent.TimeUnit;

import org.eclipse.ui.PlatformUI;
import org.jfree.chart.JFreeChart;
import org.jfree.chart.swt.ChartComposite;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;

import io.hprobe.core.model.HitStore;
import io.hprobe.core.model.Vm;
import io.hprobe.core.model.VmInfo;
import io.hprobe.core.timeline.LaneMode;
import io.hprobe.core.timeline.Timeline;
import io.hprobe.core.timeline.TimelineAggregator;
import io.hprobe.ui.HProbeUi;
import io.hprobe.ui.views.HitTimelineView;

/**
 * Benchmark, not a test: a million hits in the real Hit Timeline view; prints how long a full redraw takes
 * (re-bucketing the visible range as a zoom or pan does, then JFreeChart drawing the view's chart the way the
 * SWT composite does). Off by default: -Dhprobe.bench=true.
 */
@EnabledIfSystemProperty(named = "hprobe.bench", matches = "true")
@Timeout(value = 300, unit = TimeUnit.SECONDS)
class TimelineRedrawBenchmarkTests {

    @Test
    void redrawAMillionHits() throws Exception {
        HitStore store = new HitStore(2_000_000);
        long[] args = { 1, 2 };
        java.util.Random rnd = new java.util.Random(3);
        long t = 1_000_000_000L;
        for (int i = 0; i < 1_000_000; i++) {
            t += 1 + rnd.nextInt(2000);
            int pid = 100 + rnd.nextInt(40);
            store.append(i, 1 + rnd.nextInt(8), 0, t, pid, pid, "p" + pid, 0, false, false, args, 2);
        }
        Vm vm = Vm.offline(HProbeUi.model(), new VmInfo("bench", VmInfo.OFFLINE, "", 0, "", "", 0, false, null, null,
                io.hprobe.core.model.VmSource.UNKNOWN), store);
        vm.setTimeOriginNs(1_000_000_000L);
        HProbeUi.model().addOffline(vm);
        HProbeUi.context().selectVm(vm);
        HitTimelineView view = (HitTimelineView) PlatformUI.getWorkbench().getActiveWorkbenchWindow().getActivePage()
                .showView(HitTimelineView.ID);
        ChartComposite composite = Widgets.find(view, ChartComposite.class);
        JFreeChart chart = composite.getChart();
        UiTestSupport.waitUntil("the million hits on the timeline", Duration.ofSeconds(60),
                () -> UiTestSupport.pointHits(chart) > 0);
        BufferedImage img = new BufferedImage(1200, 500, BufferedImage.TYPE_INT_RGB);
        int width = Math.max(100, composite.getScreenDataArea().width);
        org.jfree.data.Range visible = chart.getXYPlot().getDomainAxis().getRange(); // seconds since the origin
        long fromNs = vm.timeOriginNs() + (long) (visible.getLowerBound() * 1e9);
        long toNs = vm.timeOriginNs() + (long) (visible.getUpperBound() * 1e9);
        double[] ms = new double[15];
        Timeline tl = null;
        for (int i = 0; i < ms.length; i++) {
            long t0 = System.nanoTime();
            tl = TimelineAggregator.aggregate(store, fromNs, toNs, width, LaneMode.PROBE, Set.of()); // as the view does
            Graphics2D g = img.createGraphics();
            chart.draw(g, new Rectangle(0, 0, 1200, 500));
            g.dispose();
            ms[i] = (System.nanoTime() - t0) / 1e6;
        }
        Arrays.sort(ms);
        System.out.printf(
                "BENCH timeline view: redraw with 1M hits (re-bucket + draw %d points), median %.1f ms, worst %.1f ms%n",
                UiTestSupport.nn(tl).cells(), ms[ms.length / 2], ms[ms.length - 1]);
        assertEquals(vm, HProbeUi.context().vm());
        HProbeUi.model().removeOffline(vm);
        HProbeUi.context().selectVm(null);
    }
}
