package io.hprobe.ui.tests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.IntStream;
import java.util.stream.LongStream;

import org.eclipse.core.runtime.jobs.Job;
import org.eclipse.jface.action.ActionContributionItem;
import org.eclipse.jface.action.IAction;
import org.eclipse.jface.action.IContributionItem;
import org.eclipse.swt.dnd.Clipboard;
import org.eclipse.swt.dnd.TextTransfer;
import org.eclipse.swt.widgets.TableColumn;
import org.eclipse.ui.IWorkbenchCommandConstants;
import org.eclipse.ui.IWorkbenchPage;
import org.eclipse.ui.handlers.IHandlerService;
import org.eclipse.ui.PlatformUI;
import org.eclipse.swt.widgets.Table;
import org.eclipse.swt.widgets.Text;
import org.jfree.chart.JFreeChart;
import org.jfree.chart.swt.ChartComposite;
import org.jfree.data.Range;
import org.jfree.data.xy.XYDataset;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

import io.hprobe.core.journal.HitFields;
import io.hprobe.core.journal.JournalWriter;
import io.hprobe.core.journal.Journals;
import io.hprobe.core.model.Vm;
import io.hprobe.core.timeline.Timeline;
import io.hprobe.ui.HProbeUi;
import io.hprobe.ui.UiContext;
import io.hprobe.ui.handlers.OpenJournalHandler;
import io.hprobe.ui.handlers.RecentJournalsMenu;
import io.hprobe.ui.internal.RecentJournals;
import io.hprobe.ui.views.AlertsView;
import io.hprobe.ui.views.FileDrop;
import io.hprobe.ui.views.HitRateView;
import io.hprobe.ui.views.HitTimelineView;
import io.hprobe.ui.views.HitsView;

/**
 * Offline mode: a saved journal (written here through libhprobe) opens with no agent, fills the same views,
 * and an alert's double-click brings the timeline to its moment. Skipped when libhprobe is not built.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
@ExtendWith(ScreenshotOnFailure.class)
class OfflineJournalUITest {

    private static final Duration T = Duration.ofSeconds(30);
    private static final long BASE = 1_000_000_000L;

    @Test
    void aSavedJournalOpensInTheSameViewsWithNoAgent() throws Exception {
        assumeTrue(Journals.isAvailable(),
                "libhprobe not loadable, offline test skipped: " + Journals.unavailableReason());
        Path journal = Files.createTempDirectory("hprobe-offline").resolve("saved.hpj");
        try (JournalWriter w = JournalWriter.create(journal, "saved", BASE)) {
            w.json(2, BASE,
                    "{\"event\":\"PROBE\",\"data\":{\"id\":1,\"spec\":\"kernel:__x64_sys_getpid\",\"enabled\":true}}");
            w.json(2, BASE,
                    "{\"event\":\"PROBE\",\"data\":{\"id\":2,\"spec\":\"app:/apps/hb:heartbeat\",\"enabled\":true}}");
            // the agent names an IP before its first hit: with no agent to ask, the table shows that name
            w.json(3, BASE, "{\"event\":\"IP_NAME\",\"data\":{\"ip\":\"0xffffffff81abe350\","
                    + "\"name\":\"__x64_sys_getpid\"}}");
            for (int i = 0; i < 2000; i++) {
                int pid = 100 + i % 3;
                w.hit(BASE + 1_000_000L * i, 1 + i % 2, 0, pid, pid, i % 3 == 0 ? "hb" : "sysloop", 0xffffffff81abe350L,
                        false, i, 7);
            }
            w.json(4, BASE + 1_500_000_000L, "{\"event\":\"ALERT\",\"data\":{\"detector\":1,\"kind\":\"watchdog\","
                    + "\"alert\":\"hang\",\"pid\":100,\"comm\":\"hb\",\"time_ns\":" + (BASE + 1_500_000_000L) + "}}");
        }
        RecentJournals.clear();
        HProbeUi.context().selectVm(null);
        UiTestSupport.waitUntil("Export and Add Probe disabled with no VM", T,
                () -> !UiTestSupport.commandEnabled("io.hprobe.ui.export")
                        && !UiTestSupport.commandEnabled("io.hprobe.ui.addProbe"));
        // as from the command line: the harness's own arguments are not journals
        List<Job> jobs = OpenJournalHandler.openArguments(
                new String[]{ "-testproperties", "surefire.properties", journal.toString(), "-product" });
        assertEquals(1, jobs.size());
        UiTestSupport.waitUntil("the journal opened and selected", T, () -> {
            Vm vm = HProbeUi.context().vm();
            return vm != null && !vm.isLive() && "saved".equals(vm.name());
        });
        Vm vm = UiTestSupport.nn(HProbeUi.context().vm());
        assertEquals(2000, vm.hits().count());
        UiTestSupport.waitUntil("Export enabled for a saved journal, Add Probe not (no live VM)", T,
                () -> UiTestSupport.commandEnabled("io.hprobe.ui.export")
                        && !UiTestSupport.commandEnabled("io.hprobe.ui.addProbe"));
        assertEquals(1000, UiTestSupport.nn(vm.probe(1)).hits());

        IWorkbenchPage page = PlatformUI.getWorkbench().getActiveWorkbenchWindow().getActivePage();
        HitsView hits = (HitsView) page.showView(HitsView.ID);
        Table rows = Widgets.find(hits, Table.class);
        UiTestSupport.waitUntil("2000 rows", T, () -> rows.getItemCount() == 2000);
        // Edit > Copy of three selected rows: tab-separated under the columns' titles
        page.activate(hits);
        rows.setSelection(new int[]{ 0, 1, 2 });
        hits.getSite().getService(IHandlerService.class).executeCommand(IWorkbenchCommandConstants.EDIT_COPY, null);
        Clipboard clipboard = new Clipboard(rows.getDisplay());
        String copied = (String) clipboard.getContents(TextTransfer.getInstance());
        clipboard.dispose();
        List<String> lines = copied.lines().toList();
        assertEquals(4, lines.size(), copied);
        List<String> titles = List.of(lines.get(0).split("\t"));
        assertEquals(Arrays.stream(rows.getColumns()).map(TableColumn::getText).toList(), titles);
        int comm = titles.indexOf(UiTestSupport.nn(HitFields.named("comm")).title());
        int seq = titles.indexOf(UiTestSupport.nn(HitFields.named("seq")).title());
        int ip = titles.indexOf(UiTestSupport.nn(HitFields.named("ip")).title());
        for (int i = 0; i < 3; i++) {
            String[] cells = lines.get(1 + i).split("\t");
            assertEquals(titles.size(), cells.length, lines.get(1 + i));
            assertEquals(Integer.toString(3 + i), cells[seq],
                    "a record number: two PROBE records and an IP_NAME first");
            assertEquals("__x64_sys_getpid", cells[ip], "the IP by the name the journal gives it");
            assertEquals(i % 3 == 0 ? "hb" : "sysloop", cells[comm]);
        }
        // the process field takes a part of a command name, in any case; the store says how many have it
        long sysloop = LongStream.range(vm.hits().first(), vm.hits().size())
                .filter(i -> vm.hits().commName(vm.hits().commId(i)).equals("sysloop")).count();
        assertTrue(sysloop > 0 && sysloop < 2000, sysloop + " sysloop hits");
        Text process = Widgets.find(hits, Text.class,
                t -> io.hprobe.ui.Messages.Hits_processHint.equals(t.getMessage()), "the process field");
        process.setText("SYSL");
        hits.applyFilter();
        UiTestSupport.waitUntil(sysloop + " sysloop rows", T, () -> rows.getItemCount() == sysloop);
        process.setText("");
        hits.applyFilter();
        UiTestSupport.waitUntil("2000 rows again", T, () -> rows.getItemCount() == 2000);
        HitTimelineView timeline = (HitTimelineView) page.showView(HitTimelineView.ID);
        JFreeChart chart = Widgets.find(timeline, ChartComposite.class).getChart();
        UiTestSupport.waitUntil("the timeline's points", T, () -> UiTestSupport.pointHits(chart) == 2000
                && chart.getXYPlot().getDataset() != null && chart.getXYPlot().getDataset().getSeriesCount() == 2);

        // Hit Rate: a line per probe; its buckets hold every hit of that probe, and its points are those
        // counts per second; in a range, the hits of the range
        HitRateView rate = (HitRateView) page.showView(HitRateView.ID);
        UiTestSupport.waitUntil("2000 hits in the rates", T, () -> total(rate) == 2000);
        Timeline counted = UiTestSupport.nn(rate.shown());
        assertEquals(2, counted.laneKeys().length);
        for (int lane = 0; lane < 2; lane++) {
            assertEquals(UiTestSupport.nn(vm.hits().perProbe().get(counted.laneKeys()[lane]))[0],
                    IntStream.of(counted.counts()[lane]).sum());
        }
        XYDataset rateLines = Widgets.find(rate, ChartComposite.class).getChart().getXYPlot().getDataset();
        assertEquals(2, rateLines.getSeriesCount());
        double perSecondToHits = counted.bucketWidthNs() / 1e9, summed = 0;
        for (int s = 0; s < 2; s++) {
            for (int i = 0; i < rateLines.getItemCount(s); i++) {
                summed += rateLines.getYValue(s, i) * perSecondToHits;
            }
        }
        assertEquals(2000, summed, 1e-6);
        long t0 = vm.timeOriginNs(), t1 = t0 + 1_000_000_000L;
        long inFirstSecond = java.util.stream.LongStream.range(vm.hits().first(), vm.hits().size())
                .filter(i -> vm.hits().time(i) >= t0 && vm.hits().time(i) < t1).count();
        assertEquals(1000, inFirstSecond, "a hit per ms from the journal's start");
        HProbeUi.context().timeRange(vm, t0, t1);
        UiTestSupport.waitUntil(inFirstSecond + " hits in the first second's rates", T,
                () -> total(rate) == inFirstSecond);
        HProbeUi.context().timeRange(vm, UiContext.ALL, UiContext.ALL);

        AlertsView alerts = (AlertsView) page.showView(AlertsView.ID);
        Table alertRows = Widgets.find(alerts, Table.class);
        UiTestSupport.waitUntil("the alert listed", T, () -> alertRows.getItemCount() == 1);
        Widgets.doubleClick(alertRows, 0); // go to the alert's moment
        UiTestSupport.waitUntil("the timeline at the alert's moment", T, () -> {
            Range r = chart.getXYPlot().getDomainAxis().getRange();
            return r.contains(1.5) && r.getLength() < 5;
        });
        assertTrue(vm.alerts().get(0).what().equals("hang"));
        // a Hit Timeline range after the alert leaves it out; lifting the range brings it back
        long origin = vm.timeOriginNs();
        HProbeUi.context().timeRange(vm, origin + 10_000_000_000L, origin + 11_000_000_000L);
        UiTestSupport.waitUntil("no alert in a range after it", T, () -> alertRows.getItemCount() == 0);
        assertTrue(alerts.getContentDescription().endsWith("(in the Hit Timeline's range)"),
                alerts.getContentDescription());
        HProbeUi.context().timeRange(vm, UiContext.ALL, UiContext.ALL);
        UiTestSupport.waitUntil("the alert in the whole journal again", T, () -> alertRows.getItemCount() == 1);
        HProbeUi.model().removeOffline(vm);
        HProbeUi.context().selectVm(null);

        // File > Recent Journals lists it, and opens it again
        assertEquals(List.of(journal.toAbsolutePath().normalize()), RecentJournals.list());
        IContributionItem[] items = new RecentMenu().items();
        assertEquals(3, items.length, "the journal, a separator, Clear");
        IAction again = ((ActionContributionItem) items[0]).getAction();
        assertEquals("&1 saved.hpj", again.getText());
        assertEquals(journal.toAbsolutePath().normalize().toString(), again.getToolTipText());
        again.run();
        UiTestSupport.waitUntil("the journal opened again from Recent Journals", T, () -> {
            Vm v = HProbeUi.context().vm();
            return v != null && v != vm && "saved".equals(v.name());
        });
        HProbeUi.model().removeOffline(UiTestSupport.nn(HProbeUi.context().vm()));
        HProbeUi.context().selectVm(null);
        ((ActionContributionItem) new RecentMenu().items()[2]).getAction().run();
        assertEquals(List.of(), RecentJournals.list(), "Clear Recent Journals");
        assertEquals(1, new RecentMenu().items().length, "(none yet)");

        // dropped on the window, or on the VM Browser away from a VM: the journal opens; a file that is
        // no journal does nothing there (a probe set needs a live VM under it)
        Path notJournal = journal.resolveSibling("set.json");
        Files.writeString(notJournal, "{\"format\":\"hprobe-probeset\",\"version\":1,\"probes\":[]}");
        assertTrue(
                PlatformUI.getWorkbench().getActiveWorkbenchWindow().getShell()
                        .getData(org.eclipse.swt.dnd.DND.DROP_TARGET_KEY) instanceof org.eclipse.swt.dnd.DropTarget,
                "the window takes dropped files");
        assertTrue(!FileDrop.drop(null, new String[]{ notJournal.toString() }));
        assertTrue(FileDrop.drop(null, new String[]{ journal.toString() }));
        UiTestSupport.waitUntil("the dropped journal opened", T, () -> {
            Vm v = HProbeUi.context().vm();
            return v != null && !v.isLive() && "saved".equals(v.name()) && v.hits().count() == 2000;
        });
        HProbeUi.model().removeOffline(UiTestSupport.nn(HProbeUi.context().vm()));
        HProbeUi.context().selectVm(null);
    }

    /** The hits the Hit Rate view counted, -1 before it counted any. */
    private static long total(HitRateView v) {
        Timeline t = v.shown();
        return t == null ? -1 : t.total();
    }

    /** The menu's items, as Eclipse asks for them when File opens. */
    private static final class RecentMenu extends RecentJournalsMenu {

        IContributionItem[] items() {
            return getContributionItems();
        }
    }
}
