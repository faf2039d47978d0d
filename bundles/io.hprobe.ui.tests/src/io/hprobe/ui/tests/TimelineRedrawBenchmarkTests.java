package io.hprobe.ui.tests;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.awt.Graphics2D;
import java.awt.Rectangle;
import java.awt.image.BufferedImage;
import java.time.Duration;
import java.util.Arrays;
import java.util.concurrent.TimeUnit;

import org.eclipse.ui.PlatformUI;
import org.jfree.chart.JFreeChart;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;

import io.hprobe.core.model.HitStore;
import io.hprobe.core.model.Vm;
import io.hprobe.core.model.VmInfo;
import io.hprobe.core.timeline.Timeline;
import io.hprobe.ui.HProbeUi;
import io.hprobe.ui.views.HitTimelineView;

/**
 * Benchmark, not a test: a million hits in the real Hit Timeline view; prints how long a full redraw takes
 * (re-bucketing the visible range, then JFreeChart drawing the chart the way the SWT composite does).
 * Off by default: -Dhprobe.bench=true.
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
        Vm vm = Vm.offline(HProbeUi.model(), new VmInfo("bench", VmInfo.OFFLINE, "", 0, "", "", 0, false, null, null),
                store);
        vm.setTimeOriginNs(1_000_000_000L);
        HProbeUi.model().addOffline(vm);
        HProbeUi.context().selectVm(vm);
        HitTimelineView view = (HitTimelineView) PlatformUI.getWorkbench().getActiveWorkbenchWindow().getActivePage()
                .showView(HitTimelineView.ID);
        UiTestSupport.waitUntil("the million hits on the timeline", Duration.ofSeconds(60), () -> {
            Timeline tl = view.getTimeline();
            return tl != null && tl.total() > 0;
        });
        JFreeChart chart = UiTestSupport.nn(view.getChartComposite()).getChart();
        BufferedImage img = new BufferedImage(1200, 500, BufferedImage.TYPE_INT_RGB);
        double[] ms = new double[15];
        for (int i = 0; i < ms.length; i++) {
            long t0 = System.nanoTime();
            view.redrawNow(); // re-bucket the visible range, as a zoom or pan does
            Graphics2D g = img.createGraphics();
            chart.draw(g, new Rectangle(0, 0, 1200, 500));
            g.dispose();
            ms[i] = (System.nanoTime() - t0) / 1e6;
        }
        Arrays.sort(ms);
        Timeline tl = UiTestSupport.nn(view.getTimeline());
        System.out.printf(
                "BENCH timeline view: redraw with 1M hits (re-bucket + draw %d points), median %.1f ms, worst %.1f ms%n",
                tl.cells(), ms[ms.length / 2], ms[ms.length - 1]);
        assertEquals(vm, HProbeUi.context().vm());
        HProbeUi.model().removeOffline(vm);
        HProbeUi.context().selectVm(null);
    }
}
