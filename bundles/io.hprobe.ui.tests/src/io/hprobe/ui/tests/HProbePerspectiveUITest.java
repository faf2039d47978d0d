package io.hprobe.ui.tests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;

import org.eclipse.core.runtime.IProgressMonitor;
import org.eclipse.core.runtime.IStatus;
import org.eclipse.core.runtime.Status;
import org.eclipse.core.runtime.jobs.Job;
import org.eclipse.jface.dialogs.IDialogConstants;
import org.eclipse.swt.SWT;
import org.eclipse.swt.graphics.ImageData;
import org.eclipse.swt.graphics.Point;
import org.eclipse.swt.graphics.Rectangle;
import org.eclipse.swt.widgets.Button;
import org.eclipse.swt.widgets.Composite;
import org.eclipse.swt.widgets.Event;
import org.eclipse.swt.widgets.Label;
import org.eclipse.swt.widgets.Shell;
import org.eclipse.swt.widgets.Table;
import org.eclipse.swt.widgets.TableColumn;
import org.eclipse.swt.widgets.Text;
import org.eclipse.swt.widgets.ToolBar;
import org.eclipse.ui.IPageLayout;
import org.eclipse.ui.IViewPart;
import org.eclipse.ui.IViewReference;
import org.eclipse.ui.IWorkbenchPage;
import org.eclipse.ui.IWorkbenchWindow;
import org.eclipse.ui.PlatformUI;
import org.eclipse.ui.views.IViewCategory;
import org.eclipse.ui.views.IViewDescriptor;
import org.jfree.chart.JFreeChart;
import org.jfree.chart.axis.NumberAxis;
import org.jfree.chart.axis.SymbolAxis;
import org.jfree.chart.swt.ChartComposite;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

import io.hprobe.core.journal.HitField;
import io.hprobe.core.journal.HitFields;
import io.hprobe.core.journal.Journals;
import io.hprobe.rcp.Perspective;
import io.hprobe.ui.dialogs.AttachDialog;
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

/** Runs inside the HProbe Workbench (tycho-surefire useUIHarness, UI thread). */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
@ExtendWith(ScreenshotOnFailure.class)
class HProbePerspectiveUITest {

    private static final String CATEGORY = "io.hprobe.ui.category";
    private static final Set<String> HPROBE_VIEWS = Set.of(VmBrowserView.ID, ProbeEditorView.ID, ProbesView.ID,
            HitTimelineView.ID, HitsView.ID, DetectorsView.ID, AlertsView.ID, ConsoleView.ID, AggregationView.ID,
            LatencyView.ID, HitRateView.ID, io.hprobe.ui.views.VmStatsView.ID);
    private static final Duration UI_TIMEOUT = Duration.ofSeconds(60);

    private IWorkbenchWindow window;
    private IWorkbenchPage page;

    @BeforeEach
    void findWindow() {
        assertTrue(PlatformUI.isWorkbenchRunning(), "workbench not running");
        UiTestSupport.waitUntil("an active workbench window with a page", UI_TIMEOUT,
                () -> PlatformUI.getWorkbench().getActiveWorkbenchWindow() != null
                        && PlatformUI.getWorkbench().getActiveWorkbenchWindow().getActivePage() != null);
        window = PlatformUI.getWorkbench().getActiveWorkbenchWindow();
        page = window.getActivePage();
    }

    @Test
    void startsInTheHProbePerspectiveTitledHProbeWorkbench() {
        assertEquals(Perspective.ID, page.getPerspective().getId());
        assertEquals("HProbe Workbench", window.getShell().getText());
    }

    @Test
    void viewCategoryHoldsExactlyTheHProbeViews() {
        IViewCategory category = Arrays.stream(PlatformUI.getWorkbench().getViewRegistry().getCategories())
                .filter(c -> CATEGORY.equals(c.getId())).findFirst().orElse(null);
        assertNotNull(category, "no view category " + CATEGORY);
        assertEquals("HProbe", category.getLabel());
        Set<String> ids = Arrays.stream(category.getViews()).map(IViewDescriptor::getId)
                .collect(Collectors.toCollection(TreeSet::new));
        Set<String> want = new TreeSet<>(HPROBE_VIEWS);
        want.add(io.hprobe.ui.views.WelcomeView.ID); // opened at the first start, then from Help
        assertEquals(want, ids);
    }

    @Test
    void theWelcomePageOffersTheWaysIn() throws Exception {
        assertTrue(io.hprobe.ui.preferences.Prefs.store().getBoolean(io.hprobe.ui.preferences.Prefs.WELCOME_SHOWN),
                "shown at this first start");
        IViewPart welcome = page.showView(io.hprobe.ui.views.WelcomeView.ID);
        List<org.eclipse.swt.widgets.Link> links = Widgets
                .all((Composite) welcome.getSite().getShell(), org.eclipse.swt.widgets.Link.class).stream()
                .filter(l -> l.getData() instanceof String).toList();
        assertEquals(List.of("io.hprobe.ui.launchLab", "io.hprobe.ui.attach", "io.hprobe.ui.connect",
                "io.hprobe.ui.openJournal"), links.stream().map(l -> (String) l.getData()).toList());
        for (org.eclipse.swt.widgets.Link l : links) {
            assertTrue(UiTestSupport.commandEnabled((String) l.getData()), l.getData() + " can run from the page");
        }
        Path docs = Path.of(System.getProperty("hprobe.docs", System.getProperty("java.io.tmpdir")));
        UiTestSupport.screenshotMaximized(page, welcome, docs.resolve("images").resolve("welcome.png"));
        page.hideView(welcome);
    }

    @Test
    void everyHProbeViewIsOpen() {
        for (String id : HPROBE_VIEWS) {
            IViewReference ref = page.findViewReference(id);
            assertNotNull(ref, "view not open in the perspective: " + id);
            IViewPart part = ref.getView(true);
            assertNotNull(part, "view could not be created: " + id);
            // a view whose class fails to load is replaced by the workbench's ErrorViewPart
            assertEquals("io.hprobe.ui.views", part.getClass().getPackageName(), id + " shows an error part");
        }
    }

    @Test
    void hitTimelineIsALaneChartOverTime() {
        HitTimelineView view = assertInstanceOf(HitTimelineView.class, page.findView(HitTimelineView.ID));
        ChartComposite composite = Widgets.find(view, ChartComposite.class);
        JFreeChart chart = composite.getChart();
        assertInstanceOf(NumberAxis.class, chart.getXYPlot().getDomainAxis());
        assertInstanceOf(SymbolAxis.class, chart.getXYPlot().getRangeAxis());
        UiTestSupport.waitUntil("the chart to be laid out", UI_TIMEOUT, () -> {
            Point size = composite.getSize();
            return composite.isVisible() && size.x > 100 && size.y > 100;
        });
    }

    @Test
    void hitsTableColumnsAreLibhprobesHitFields() throws Exception {
        HitsView view = (HitsView) page.showView(HitsView.ID);
        Table table = Widgets.find(view, Table.class);
        if (Journals.isAvailable()) {
            assertEquals("libhprobe", HitFields.source());
        }
        List<HitField> fields = HitFields.all();
        for (TableColumn c : table.getColumns()) {
            HitField f = fields.stream().filter(x -> x.title().equals(c.getText())).findFirst().orElse(null);
            assertNotNull(f, "column " + c.getText() + " is no hit field's title");
            assertEquals(f.doc(), c.getToolTipText(), "the field's doc is the column's tooltip");
        }
        List<String> titles = Arrays.stream(table.getColumns()).map(TableColumn::getText).toList();
        for (String held : List.of("seq", "rel_ns", "probe", "vcpu", "pid", "tgid", "comm", "ip", "user", "blocked",
                "args")) {
            assertTrue(titles.contains(UiTestSupport.nn(HitFields.named(held)).title()), held + " in " + titles);
        }
    }

    /** Also documentation: docs/images/workbench-perspective.png is this picture. */
    @Test
    void longWorkShowsInTheProgressViewAndItsStopButtonCancelsIt() throws Exception {
        String name = "hprobe test: long work";
        Job job = new Job(name) {

            @Override
            protected IStatus run(IProgressMonitor monitor) {
                monitor.beginTask(name, IProgressMonitor.UNKNOWN);
                while (!monitor.isCanceled()) {
                    try {
                        Thread.sleep(20);
                    } catch (InterruptedException e) {
                        break;
                    }
                }
                return Status.CANCEL_STATUS;
            }
        };
        job.schedule();
        try {
            assertTrue(Arrays.asList(page.getShowViewShortcuts()).contains(IPageLayout.ID_PROGRESS_VIEW),
                    "Window > Show View lists the Progress view");
            IViewPart progress = page.showView(IPageLayout.ID_PROGRESS_VIEW);
            Composite root = Widgets.root(progress);
            UiTestSupport.waitUntil("the job listed in the Progress view", UI_TIMEOUT, () -> Widgets
                    .all(root, Label.class).stream().anyMatch(l -> !l.isDisposed() && l.getText().contains(name)));
            Label label = Widgets.all(root, Label.class).stream().filter(l -> l.getText().contains(name)).findFirst()
                    .orElseThrow();
            ToolBar stop = Widgets.all(label.getParent(), ToolBar.class).get(0);
            assertTrue(stop.getItemCount() > 0 && stop.getItem(0).isEnabled(), "a stop button for the job");
            stop.getItem(0).notifyListeners(SWT.Selection, new Event());
            UiTestSupport.waitUntil("the job cancelled from the Progress view", UI_TIMEOUT,
                    () -> job.getResult() != null);
            assertEquals(IStatus.CANCEL, job.getResult().getSeverity());
            page.hideView(progress);
        } finally {
            job.cancel();
        }
    }

    @Test
    void attachDialogShowsWhatWasTypedAtTheLastOk() {
        typeAndClose(List.of("/tmp/hprobe-test/qmp.sock", "mine"), IDialogConstants.OK_LABEL);
        typeAndClose(List.of("/tmp/cancelled.sock", "cancelled"), IDialogConstants.CANCEL_LABEL);
        AttachDialog again = new AttachDialog(window.getShell());
        again.setBlockOnOpen(false);
        again.open();
        try {
            List<Text> fields = editable(again.getShell());
            assertEquals(4, fields.size());
            assertEquals(List.of("/tmp/hprobe-test/qmp.sock", "mine", "", ""),
                    fields.stream().map(Text::getText).toList(), "what was typed before OK, not before Cancel");
        } finally {
            again.close();
        }
    }

    /** A message with {0} goes through MessageFormat, where a lone ' quotes: "tier's" would show as "tiers". */
    @Test
    void messagesWithArgumentsDoubleTheirApostrophes() throws Exception {
        List<String> bad = new java.util.ArrayList<>();
        for (java.lang.reflect.Field f : io.hprobe.ui.Messages.class.getFields()) {
            if (f.getType() == String.class && f.get(null) instanceof String v && v.matches("(?s).*\\{\\d+\\}.*")
                    && v.matches("(?s).*(?<!')'(?!').*")) {
                bad.add(f.getName() + " = " + v);
            }
        }
        assertEquals(List.of(), bad);
    }

    @Test
    void aDetectorIsConfiguredWithAForm() throws Exception {
        // a new detector: the emergency detector's form, its action chosen and an errno typed
        io.hprobe.ui.dialogs.DetectorDialog d = new io.hprobe.ui.dialogs.DetectorDialog(window.getShell(), null, null);
        d.setBlockOnOpen(false);
        d.open();
        org.eclipse.swt.widgets.Combo action = (org.eclipse.swt.widgets.Combo) field(d.getShell(), "action");
        action.select(Arrays.asList(action.getItems()).indexOf("alert"));
        ((Text) field(d.getShell(), "errno")).setText("14");
        press(d.getShell(), IDialogConstants.OK_LABEL);
        assertEquals("emergency", d.kind());
        assertEquals("{\"cve\":\"CVE-2008-0600\",\"action\":\"alert\",\"errno\":14}", d.config().toString());
        // a detector edited: its configuration fills the form; a period that is no number keeps it open
        com.google.gson.JsonObject wd = com.google.gson.JsonParser
                .parseString("{\"probe\":\"app:/apps/hb:heartbeat\",\"period_ms\":500}").getAsJsonObject();
        io.hprobe.ui.dialogs.DetectorDialog e = new io.hprobe.ui.dialogs.DetectorDialog(window.getShell(), "watchdog",
                wd);
        e.setBlockOnOpen(false);
        e.open();
        try {
            Text period = (Text) field(e.getShell(), "period_ms");
            assertEquals("500", period.getText());
            assertEquals("app:/apps/hb:heartbeat", ((Text) field(e.getShell(), "probe")).getText());
            UiTestSupport.screenshot(e.getShell(),
                    Path.of(System.getProperty("hprobe.docs", System.getProperty("java.io.tmpdir"))).resolve("images")
                            .resolve("detector-form.png"));
            period.setText("half a second");
            press(e.getShell(), IDialogConstants.OK_LABEL);
            assertNotNull(e.getShell(), "a bad number keeps the dialog open");
            period.setText("750");
            ((Text) field(e.getShell(), "comm")).setText("hb");
            press(e.getShell(), IDialogConstants.OK_LABEL);
            assertEquals("{\"probe\":\"app:/apps/hb:heartbeat\",\"period_ms\":750,\"comm\":\"hb\"}",
                    e.config().toString());
        } finally {
            if (e.getShell() != null) {
                e.close();
            }
        }
        // a kind without a form is configured as JSON
        io.hprobe.ui.dialogs.DetectorDialog j = new io.hprobe.ui.dialogs.DetectorDialog(window.getShell(), "future",
                null);
        j.setBlockOnOpen(false);
        j.open();
        List<Text> texts = editable(j.getShell());
        assertEquals(1, texts.size());
        texts.get(0).setText("{\"depth\": 3}");
        press(j.getShell(), IDialogConstants.OK_LABEL);
        assertEquals("{\"depth\":3}", j.config().toString());
    }

    private static org.eclipse.swt.widgets.Control field(Shell shell, String key) {
        return Widgets.all(shell, org.eclipse.swt.widgets.Control.class).stream().filter(c -> key.equals(c.getData()))
                .findFirst().orElseThrow(() -> new AssertionError("no field " + key));
    }

    private static void press(Shell shell, String button) {
        Widgets.all(shell, Button.class).stream().filter(b -> button.equals(b.getText())).findFirst().orElseThrow()
                .notifyListeners(SWT.Selection, new Event());
    }

    private void typeAndClose(List<String> values, String button) {
        AttachDialog d = new AttachDialog(window.getShell());
        d.setBlockOnOpen(false);
        d.open();
        List<Text> fields = editable(d.getShell());
        for (int i = 0; i < fields.size(); i++) {
            fields.get(i).setText(i < values.size() ? values.get(i) : "");
        }
        Widgets.all(d.getShell(), Button.class).stream().filter(b -> button.equals(b.getText())).findFirst()
                .orElseThrow().notifyListeners(SWT.Selection, new Event());
        assertTrue(d.getShell() == null, "the dialog closed");
    }

    private static List<Text> editable(Shell shell) {
        return Widgets.all(shell, Text.class).stream().filter(t -> (t.getStyle() & SWT.READ_ONLY) == 0).toList();
    }

    @Test
    void screenshotOfTheWorkbench() throws Exception {
        Shell shell = window.getShell();
        UiTestSupport.waitUntil("the window to be shown", UI_TIMEOUT, () -> shell.isVisible() && shell.getSize().x > 0);
        Path docs = Path.of(System.getProperty("hprobe.docs", System.getProperty("java.io.tmpdir")));
        Path png = UiTestSupport.screenshot(shell, docs.resolve("images").resolve("workbench-perspective.png"));
        assertTrue(Files.size(png) > 10_000, "suspiciously small screenshot " + png);
        ImageData data = new ImageData(png.toString());
        Rectangle area = UiTestSupport.windowArea(shell);
        assertEquals(area.width, data.width);
        assertEquals(area.height, data.height);
        assertTrue(area.width >= 1000 && area.height >= 600, "window too small for the perspective: " + area);
    }
}
