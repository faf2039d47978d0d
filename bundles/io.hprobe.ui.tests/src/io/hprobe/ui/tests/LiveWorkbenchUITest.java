package io.hprobe.ui.tests;

import static io.hprobe.ui.tests.UiTestSupport.docs;
import static io.hprobe.ui.tests.UiTestSupport.page;
import static io.hprobe.ui.tests.UiTestSupport.show;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;

import org.eclipse.core.runtime.Adapters;
import org.eclipse.core.runtime.IStatus;
import org.eclipse.core.runtime.jobs.Job;
import org.eclipse.jface.action.IAction;
import org.eclipse.jface.viewers.IStructuredSelection;
import org.eclipse.jface.wizard.WizardDialog;
import org.eclipse.swt.SWT;
import org.eclipse.swt.custom.StyledText;
import org.eclipse.swt.widgets.Button;
import org.eclipse.swt.widgets.Event;
import org.eclipse.swt.widgets.Label;
import org.eclipse.swt.widgets.Shell;
import org.eclipse.swt.widgets.Spinner;
import org.eclipse.swt.widgets.Table;
import org.eclipse.swt.widgets.TableColumn;
import org.eclipse.swt.widgets.Text;
import org.eclipse.swt.widgets.Tree;
import org.eclipse.swt.widgets.TreeItem;
import org.eclipse.ui.IPageLayout;
import org.eclipse.ui.IViewPart;
import org.eclipse.ui.IWorkbenchPage;
import org.eclipse.ui.PlatformUI;
import org.eclipse.ui.views.properties.IPropertyDescriptor;
import org.eclipse.ui.views.properties.IPropertySource;
import org.jfree.chart.JFreeChart;
import org.jfree.chart.swt.ChartComposite;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

import io.hprobe.core.journal.ExportFormat;
import io.hprobe.core.journal.HitFields;
import io.hprobe.core.journal.Journals;
import io.hprobe.core.model.Agent;
import io.hprobe.core.model.Param;
import io.hprobe.core.model.Probe;
import io.hprobe.core.model.ProbeRequest;
import io.hprobe.core.model.Vm;
import io.hprobe.ui.HProbeUi;
import io.hprobe.ui.Messages;
import io.hprobe.ui.internal.ChartImages;
import io.hprobe.ui.internal.HitSelection;
import io.hprobe.ui.views.AggregationView;
import io.hprobe.ui.views.ConsoleView;
import io.hprobe.ui.views.HitTimelineView;
import io.hprobe.ui.views.HitsView;
import io.hprobe.ui.views.LatencyView;
import io.hprobe.ui.views.ProbeEditorView;
import io.hprobe.ui.views.ProbesView;
import io.hprobe.ui.views.VmBrowserView;
import io.hprobe.ui.wizards.ExportWizard;

/**
 * The workbench against the real agent and the real lab guest, step by step as a researcher would: launch
 * the lab VM from the VM Browser, find __x64_sys_getpid in the Probe Editor and probe it with "Probe Here",
 * run sysloop in the guest's console, watch the hit count and the timeline grow, disable the probe, export
 * CTF and read it back with babeltrace2. Every wait polls. Screenshots of each step go to docs/images.
 * Skipped (saying why) when the agent binary is not built.
 */
@Timeout(value = 420, unit = TimeUnit.SECONDS)
@ExtendWith(ScreenshotOnFailure.class)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class LiveWorkbenchUITest {

    private static final Duration BOOT = Duration.ofSeconds(240);
    private static final Duration T = Duration.ofSeconds(60);
    private static final String FUNCTION = "__x64_sys_getpid";
    private static final int CALLS = 300;
    private static final int WRITES = 5;
    private static final String CONDITION = "fd == 3 && count == 7 && comm == \"sysl*\""; //$NON-NLS-1$

    private static Agent agent;
    private static Vm vm;
    private static Probe probe;
    private static long finalHits;

    @BeforeAll
    static void agentBinary() {
        UiTestSupport.agentBinary();
    }

    @AfterAll
    static void powerOffAndStopTheAgent() throws Exception {
        if (agent == null) {
            return;
        }
        try {
            if (vm != null && vm.isLive()) {
                agent.quit(vm).get(60, TimeUnit.SECONDS);
            }
        } finally {
            // the workbench started this agent for the tests: stop it so no process outlives the build
            UiTestSupport.shutDownAgent(agent, T);
            UiTestSupport.deleteTree(agent.socket().getParent()); // the run files of this run's VMs
        }
    }

    /** What a failed wait should say: the agent's state and the tail of its log. */
    private static String diagnostics() {
        return UiTestSupport.diagnostics(agent);
    }

    /** Types a line into the console's input field and presses Enter, as a user does. */
    private static void type(ConsoleView console, String line) {
        Text input = Widgets.find(console, Text.class);
        input.setText(line);
        Widgets.pressEnter(input);
    }

    /** The Probes view's row of the probe under test (by its id), or -1. */
    private static int probeRow(Table table) {
        return Widgets.rowWith(table, 1, Integer.toString(probe.id()));
    }

    @Test
    @Order(1)
    void launchTheLabGuestFromTheVmBrowser() throws Exception {
        VmBrowserView browser = show(VmBrowserView.ID, VmBrowserView.class);
        agent = UiTestSupport.connectedLocalAgent(T);
        assertEquals(HitFields.all(), HitFields.fromJson(agent.info().get("hit_fields")),
                "the agent publishes libhprobe's hit field table, for a workbench without libhprobe");
        int before = agent.vms().size();
        Widgets.toolbarAction(browser, Messages.VmBrowser_launch).run();
        UiTestSupport.waitUntil(() -> "the lab guest to boot and be selected; " + diagnostics(), BOOT, () -> {
            UiTestSupport.failOnErrorDialog();
            Vm selected = HProbeUi.context().vm();
            return agent.vms().size() > before && selected != null && selected.agent() == agent
                    && selected.info().isRunning();
        });
        vm = HProbeUi.context().vm();
        UiTestSupport.waitUntil("Add Probe enabled for a live VM", T,
                () -> UiTestSupport.commandEnabled("io.hprobe.ui.addProbe"));
        assertEquals("tcg", vm.info().accel());
        assertTrue(vm.info().kernel().startsWith("6."), vm.info().kernel());
        UiTestSupport.waitUntil("the guest's process list", T, () -> vm.processes().size() > 5);
        assertTrue(vm.processes().stream().anyMatch(p -> p.pid() == 1), "init is listed");
        Tree tree = Widgets.find(browser, Tree.class);
        UiTestSupport.waitUntil("the VM's processes shown in the tree", T, () -> {
            TreeItem item = Widgets.itemOf(tree, vm);
            return item != null && item.getExpanded();
        });
        UiTestSupport.settle(browser.getSite().getShell().getDisplay());
        UiTestSupport.screenshotMaximized(page(), browser, docs("vm-browser.png"));

        // the selected VM in the Properties view: what the agent reports of it
        Widgets.click(tree, UiTestSupport.nn(Widgets.itemOf(tree, vm)));
        IViewPart props = page().showView(IPageLayout.ID_PROP_SHEET, null, IWorkbenchPage.VIEW_VISIBLE);
        // the view keeps a page (a tree) per part it has shown: the browser's is the visible one
        UiTestSupport.waitUntil("the VM's kernel in the Properties view", T, () -> {
            for (Tree rows : Widgets.all(Widgets.root(props), Tree.class)) {
                if (rows.isVisible()) {
                    Widgets.expandAll(rows);
                    TreeItem k = Widgets.itemWith(rows, Messages.Props_vm, Messages.Props_kernel);
                    TreeItem name = Widgets.itemWith(rows, Messages.Props_vm, Messages.Props_name);
                    return k != null && vm.info().kernel().equals(k.getText(1)) && name != null
                            && "lab".equals(name.getText(1));
                }
            }
            return false;
        });
    }

    @Test
    @Order(2)
    void searchTheSymbolAndProbeItFromTheEditor() throws Exception {
        assumeTrue(vm != null, "no lab VM (the launch step failed)");
        ProbeEditorView editor = show(ProbeEditorView.ID, ProbeEditorView.class);
        Table symbols = Widgets.table(editor, Messages.ProbeEditor_symbol);
        UiTestSupport.waitUntil("the kernel symbols to load", T, () -> symbols.getItemCount() > 0);
        Text search = Widgets.find(editor, Text.class, t -> Messages.ProbeEditor_searchHint.equals(t.getMessage()),
                "the symbol search");
        search.setText(FUNCTION); // a modify event per setText, as typing gives per keystroke
        UiTestSupport.waitUntil(FUNCTION + " first in the list", T,
                () -> symbols.getItemCount() > 0 && FUNCTION.equals(symbols.getItem(0).getText(0)));
        Widgets.click(symbols, 0);
        Table disassembly = Widgets.table(editor, Messages.ProbeEditor_insn);
        UiTestSupport.waitUntil("its disassembly", T, () -> disassembly.getItemCount() > 3);
        symbols.setFocus();
        Widgets.find(editor, Button.class, b -> Messages.ProbeForm_regs.equals(b.getText()), "the registers box")
                .setSelection(true);
        Widgets.toolbarAction(editor, Messages.ProbeEditor_probeHere).run();
        UiTestSupport.waitUntil("the probe armed in the agent", T,
                () -> UiTestSupport.failOnErrorDialog() && vm.probes().stream().anyMatch(
                        p -> p.spec().equals("kernel:" + FUNCTION) && p.enabled() && "armed".equals(p.state())));
        probe = vm.probes().stream().filter(p -> p.spec().equals("kernel:" + FUNCTION)).findFirst().orElseThrow();
        // the guest kernel's syscall metadata says getpid takes nothing: no argument to name
        assertEquals(java.util.List.of(), probe.params(), "getpid's parameters, known to be none");
        UiTestSupport.screenshotMaximized(page(), editor, docs("probe-editor.png"));
    }

    @Test
    @Order(3)
    void sysloopInTheConsoleMakesHitsAndTimelinePoints() throws Exception {
        assumeTrue(vm != null && probe != null, "no probe (an earlier step failed)");
        ConsoleView console = show(ConsoleView.ID, ConsoleView.class);
        StyledText output = Widgets.find(console, StyledText.class);
        UiTestSupport.waitUntil("the shell prompt in the console", T, () -> output.getText().contains("lab#"));
        // busy work between the calls spreads the hits over a few seconds of timeline
        type(console, "sysloop -n " + CALLS + " -g -k 400000");
        UiTestSupport.waitUntil("sysloop to finish in the guest", T,
                () -> output.getText().contains("getpid_calls=" + CALLS));
        UiTestSupport.waitUntil("at least " + CALLS + " hits counted by the agent", T,
                () -> vm.probe(probe.id()) != null && UiTestSupport.nn(vm.probe(probe.id())).hits() >= CALLS);
        UiTestSupport.waitUntil("the hits in the workbench's store", T, () -> vm.hits().count() >= CALLS);
        long sysloopHits = 0;
        for (long i = vm.hits().first(); i < vm.hits().size(); i++) {
            if ("sysloop".equals(vm.hits().get(i).comm())) {
                sysloopHits++;
            }
        }
        assertTrue(sysloopHits >= CALLS, "hits by sysloop: " + sysloopHits);
        UiTestSupport.screenshotMaximized(page(), console, docs("console.png"));

        HitTimelineView timeline = show(HitTimelineView.ID, HitTimelineView.class);
        JFreeChart chart = Widgets.find(timeline, ChartComposite.class).getChart();
        UiTestSupport.waitUntil("points on the timeline", T,
                () -> UiTestSupport.pointHits(chart) >= CALLS && UiTestSupport.points(chart) > 0);
        Path png = Files.createTempFile("timeline", ".png");
        Path svg = Files.createTempFile("timeline", ".svg");
        ChartImages.save(chart, png, false, 900, 400);
        ChartImages.save(chart, svg, true, 900, 400);
        assertTrue(Files.size(png) > 5000, "PNG written");
        assertTrue(Files.readString(svg, StandardCharsets.UTF_8).contains("<svg"), "SVG written");
        UiTestSupport.screenshotMaximized(page(), timeline, docs("timeline.png"));

        HitsView hits = show(HitsView.ID, HitsView.class);
        Table rows = Widgets.find(hits, Table.class);
        UiTestSupport.waitUntil("rows in the hits table", T, () -> rows.getItemCount() >= CALLS);
        // the IP as the guest kernel names it (the agent's sym-lookup; the 32-bit entry, an alias of the same
        // code in some builds, is not the name shown)
        String ipTitle = UiTestSupport.nn(io.hprobe.core.journal.HitFields.named("ip")).title();
        int ipColumn = java.util.Arrays.asList(rows.getColumns()).stream().map(TableColumn::getText).toList()
                .indexOf(ipTitle);
        assertTrue(ipColumn >= 0, "an IP column");
        UiTestSupport.waitUntil("the IP named", T,
                () -> rows.getItem(rows.getItemCount() - 1).getText(ipColumn).equals("__x64_sys_getpid"));
        UiTestSupport.screenshotMaximized(page(), hits, docs("hits.png"));
        show(VmBrowserView.ID, VmBrowserView.class);
        show(HitTimelineView.ID, HitTimelineView.class);
        show(HitsView.ID, HitsView.class);
        Widgets.click(rows, rows.getItemCount() - 1); // the Properties view shows the active part's selection
        UiTestSupport.waitUntil("the hit in the Properties view", T,
                () -> page().findView(org.eclipse.ui.IPageLayout.ID_PROP_SHEET) != null);
        // the table keeps columns only: the registers come from the agent's journal record of that hit
        UiTestSupport.waitUntil("the selected hit's registers fetched", T, () -> {
            Object sel = hits.getSite().getSelectionProvider().getSelection() instanceof IStructuredSelection s
                    ? s.getFirstElement()
                    : null;
            return sel instanceof HitSelection h && h.record() != null && UiTestSupport.nn(h.record()).has("regs")
                    && UiTestSupport.nn(h.record()).getAsJsonObject("regs").has("rip");
        });
        UiTestSupport.screenshot(PlatformUI.getWorkbench().getActiveWorkbenchWindow().getShell(),
                docs("workbench.png"));
    }

    @Test
    @Order(4)
    void disableTheProbeFromTheProbesView() throws Exception {
        assumeTrue(vm != null && probe != null, "no probe (an earlier step failed)");
        ProbesView probes = show(ProbesView.ID, ProbesView.class);
        Table table = Widgets.table(probes, Messages.Probes_probe);
        UiTestSupport.waitUntil("the probe listed", T, () -> probeRow(table) >= 0);
        assertNotNull(vm.probe(probe.id()));
        UiTestSupport.screenshotMaximized(page(), probes, docs("probes.png"));
        Widgets.setChecked(table, probeRow(table), false); // a click on the box
        UiTestSupport.waitUntil("the probe disabled in the agent", T,
                () -> vm.probe(probe.id()) != null && !UiTestSupport.nn(vm.probe(probe.id())).enabled()
                        && "disabled".equals(UiTestSupport.nn(vm.probe(probe.id())).state()));
        finalHits = UiTestSupport.nn(vm.probe(probe.id())).hits();
        assertTrue(finalHits >= CALLS);
        // a probe in the Properties view: the adapter plugin.xml registers, its rows
        IPropertySource src = Adapters.adapt(UiTestSupport.nn(vm.probe(probe.id())), IPropertySource.class);
        assertNotNull(src, "probes adapt to the Properties view");
        java.util.Map<String, Object> byName = new java.util.HashMap<>();
        for (IPropertyDescriptor d : src.getPropertyDescriptors()) {
            byName.put(d.getDisplayName(), src.getPropertyValue(d.getId()));
        }
        assertEquals(probe.spec(), byName.get(Messages.Props_spec));
        assertEquals("tcg-plugin", byName.get(Messages.Props_mechanism));
        assertEquals("disabled", byName.get(Messages.Props_state));
        assertEquals(Long.toString(finalHits), byName.get(Messages.Props_hits));
    }

    @Test
    @Order(5)
    void exportCtfAndReadItWithBabeltrace2() throws Exception {
        assumeTrue(vm != null && finalHits > 0, "no disabled probe with hits (an earlier step failed)");
        assumeTrue(Journals.isAvailable(), "libhprobe not loadable: " + Journals.unavailableReason());
        // the journal is flushed in batches: wait until it holds every hit the agent counted
        UiTestSupport.waitUntil("the journal to hold every hit", T, () -> {
            try {
                long flushed = agent.journalInfo(vm).get(5, TimeUnit.SECONDS).get("flushed_seq").getAsLong();
                return flushed > vm.hits().lastSeq();
            } catch (Exception e) {
                return false;
            }
        });
        Path out = Files.createTempDirectory("hprobe-ctf").resolve("trace");
        ExportWizard wizard = new ExportWizard(vm, Path.of(vm.info().journal()));
        Shell shell = PlatformUI.getWorkbench().getActiveWorkbenchWindow().getShell();
        WizardDialog dialog = new WizardDialog(shell, wizard);
        dialog.setBlockOnOpen(false);
        dialog.open();
        try {
            wizard.preset(ExportFormat.CTF, out.toString());
            dialog.getShell().forceActive(); // no window manager under Xvfb: GTK draws unfocused windows pale
            UiTestSupport.waitQuietly(Duration.ofSeconds(3),
                    () -> dialog.getShell().getDisplay().getActiveShell() == dialog.getShell());
            UiTestSupport.screenshot(dialog.getShell(), docs("export.png"));
            UiTestSupport.pressButton(dialog.getShell(), "Finish");
        } finally {
            if (dialog.getShell() != null && !dialog.getShell().isDisposed()) {
                dialog.close();
            }
        }
        Job job = wizard.getJob();
        assertNotNull(job, "Finish started no export job");
        UiTestSupport.waitUntil("the export job", T, () -> job.getResult() != null);
        assertEquals(IStatus.OK, job.getResult().getSeverity(), job.getResult().getMessage());
        assertTrue(Files.isRegularFile(out.resolve("metadata")), "CTF metadata in " + out);

        Process bt = new ProcessBuilder("babeltrace2", out.toString()).redirectErrorStream(true).start();
        String text = new String(bt.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(bt.waitFor(60, TimeUnit.SECONDS), "babeltrace2 finished");
        assertEquals(0, bt.exitValue(), text.length() > 2000 ? text.substring(0, 2000) : text);
        // the probe's event class is named by its spec; cpu_id: the vCPU's stream
        String hit = "^\\[[^\\]]+\\] \\([^)]*\\) .+: \\{ cpu_id = \\d+ \\}, .*";
        long events = text.lines().filter(l -> l.matches(hit)).count();
        assertEquals(finalHits, events, "CTF hit events = the probe's hit count");
    }

    @Test
    @Order(6)
    void aDetectorShowsItsLiveState() throws Exception {
        assumeTrue(vm != null, "no lab VM (an earlier step failed)");
        // a watchdog on a heartbeating program: its live state has a process to show
        ConsoleView console = show(ConsoleView.ID, ConsoleView.class);
        type(console, "/apps/hb -p 100 &");
        com.google.gson.JsonObject config = new com.google.gson.JsonObject();
        config.addProperty("probe", "app:/apps/hb:heartbeat");
        config.addProperty("period_ms", 500);
        // every agent this workbench ships with has the watchdog: an error here is a failure
        int id = agent.addDetector(vm, "watchdog", config).get(30, TimeUnit.SECONDS);
        io.hprobe.ui.views.DetectorsView view = show(io.hprobe.ui.views.DetectorsView.ID,
                io.hprobe.ui.views.DetectorsView.class);
        Table detectors = Widgets.table(view, Messages.Detectors_kind);
        Tree state = Widgets.find(view, Tree.class);
        UiTestSupport.waitUntil("the detector and its live state (DETECTOR_STATE)", T, () -> {
            int row = Widgets.rowWith(detectors, 0, Integer.toString(id));
            if (row >= 0 && detectors.getSelectionIndex() != row) {
                Widgets.click(detectors, row); // its state shows below
            }
            return detectors.getItemCount() == 1 && state.getItemCount() > 0;
        });
        // the first DETECTOR_STATE may come before hb's first beat: wait for a watched process
        UiTestSupport.waitUntil("hb's process watched", T, () -> java.util.Arrays.stream(state.getItems())
                .anyMatch(i -> i.getText(0).equals("Processes") && i.getText(1).equals("1")));
        Widgets.expandAll(state);
        // in words: the configuration as a sentence, the state as labelled values, hb's process by name
        int row = Widgets.rowWith(detectors, 0, Integer.toString(id));
        assertEquals("app:/apps/hb:heartbeat called at least every 500 ms", detectors.getItem(row).getText(4));
        assertEquals("enabled", detectors.getItem(row).getText(3));
        assertEquals("Period", state.getItem(0).getText(0));
        assertEquals("500 ms", state.getItem(0).getText(1));
        TreeItem procs = java.util.Arrays.stream(state.getItems()).filter(i -> i.getText(0).equals("Processes"))
                .findFirst().orElseThrow();
        assertEquals(1, procs.getItemCount());
        assertTrue(procs.getItem(0).getText(0).matches("hb \\(pid \\d+\\)"), procs.getItem(0).getText(0));
        UiTestSupport.screenshotMaximized(page(), view, docs("detectors.png"));
        // Disable from the view: the agent says so (detector-list), and the row; Enable brings it back
        org.eclipse.jface.action.IAction toggle = UiTestSupport.nn(view.toggleAction());
        assertEquals("Disable", toggle.getText());
        toggle.run();
        UiTestSupport.waitUntil("the detector disabled", T, () -> {
            int r = Widgets.rowWith(detectors, 0, Integer.toString(id));
            return r >= 0 && "disabled".equals(detectors.getItem(r).getText(3)) && "Enable".equals(toggle.getText());
        });
        assertTrue(agent.refreshDetectors(vm).get(30, TimeUnit.SECONDS).stream()
                .anyMatch(d -> d.id() == id && !d.enabled()), "the agent's detector is disabled");
        toggle.run();
        UiTestSupport.waitUntil("the detector enabled again", T, () -> {
            int r = Widgets.rowWith(detectors, 0, Integer.toString(id));
            return r >= 0 && "enabled".equals(detectors.getItem(r).getText(3));
        });
        agent.removeDetector(vm, id).get(30, TimeUnit.SECONDS);
        type(console, "kill %1");
        UiTestSupport.waitUntil("the detector removed", T, () -> detectors.getItemCount() == 0);
    }

    @Test
    @Order(7)
    void removingAProbeCanBeUndoneAndRedone() throws Exception {
        assumeTrue(vm != null && probe != null, "no probe (an earlier step failed)");
        ProbesView probes = show(ProbesView.ID, ProbesView.class);
        Table table = Widgets.table(probes, Messages.Probes_probe);
        UiTestSupport.waitUntil("the probe listed", T, () -> probeRow(table) >= 0);
        Widgets.click(table, probeRow(table));
        IAction remove = Widgets.toolbarAction(probes, Messages.Probes_remove);
        assertTrue(remove.isEnabled(), "Remove is enabled for a selected probe");
        remove.run();
        String spec = "kernel:" + FUNCTION;
        UiTestSupport.waitUntil("the probe removed", T,
                () -> vm.probes().stream().noneMatch(p -> p.spec().equals(spec)));

        org.eclipse.core.commands.operations.IOperationHistory history = PlatformUI.getWorkbench().getOperationSupport()
                .getOperationHistory();
        org.eclipse.core.commands.operations.IUndoContext context = PlatformUI.getWorkbench().getOperationSupport()
                .getUndoContext();
        // the model may show the removal before the operation lands in the history
        UiTestSupport.waitUntil("the removal on top of the undo history", T,
                () -> history.getUndoOperation(context) instanceof io.hprobe.ui.operations.RemoveProbeOperation);
        assertTrue(history.canUndo(context), "Edit > Undo offers the removal");
        assertEquals(IStatus.OK, history.undo(context, null, null).getSeverity());
        UiTestSupport.waitUntil("the probe back, still disabled", T,
                () -> vm.probes().stream().anyMatch(p -> p.spec().equals(spec) && !p.enabled()));
        assertEquals(IStatus.OK, history.redo(context, null, null).getSeverity());
        UiTestSupport.waitUntil("the probe removed again", T,
                () -> vm.probes().stream().noneMatch(p -> p.spec().equals(spec)));
    }

    @Test
    @Order(8)
    void writeHitsShowTheirArgumentsByName() throws Exception {
        assumeTrue(vm != null, "no lab VM (the launch step failed)");
        // from the editor's form, with a condition the tier evaluates: sysloop's writes only
        ProbeEditorView editor = show(ProbeEditorView.ID, ProbeEditorView.class);
        Table symbols = Widgets.table(editor, Messages.ProbeEditor_symbol);
        Widgets.find(editor, Text.class, t -> Messages.ProbeEditor_searchHint.equals(t.getMessage()),
                "the symbol search").setText("__x64_sys_write");
        UiTestSupport.waitUntil("__x64_sys_write first in the list", T,
                () -> symbols.getItemCount() > 0 && "__x64_sys_write".equals(symbols.getItem(0).getText(0)));
        Widgets.click(symbols, 0); // fills the form's Where
        UiTestSupport.waitUntil("its disassembly", T, () -> !Widgets.all(Widgets.root(editor), Label.class).stream()
                .filter(l -> l.getText().startsWith("__x64_sys_write: ")).toList().isEmpty());
        assertEquals("kernel:__x64_sys_write", Widgets
                .find(editor, Text.class, t -> Messages.ProbeForm_specHint.equals(t.getMessage()), "the spec field")
                .getText());
        Widgets.find(editor, Spinner.class).setSelection(3);
        Widgets.find(editor, Button.class, b -> Messages.ProbeForm_regs.equals(b.getText()), "the registers box")
                .setSelection(false);
        Text cond = Widgets.find(editor, Text.class, t -> Messages.ProbeForm_ifHint.equals(t.getMessage()),
                "the condition field");
        cond.setText("cnt > 4"); // refused by the agent, which names the column and what it knows
        editor.addFromForm();
        UiTestSupport.waitUntil("the agent's refusal", T, () -> io.hprobe.ui.internal.Jobs.lastFailure() != null);
        String refused = UiTestSupport.nn(io.hprobe.ui.internal.Jobs.takeLastFailure());
        assertTrue(refused.contains("--if: column 1: unknown name (known: fd, buf, count, arg1..arg6"), refused);
        cond.setText(CONDITION);
        editor.addFromForm();
        UiTestSupport.waitUntil("the write probe armed with its condition", T, () -> UiTestSupport.failOnErrorDialog()
                && vm.probes().stream().anyMatch(p -> CONDITION.equals(p.cond()) && "armed".equals(p.state())));
        Probe write = vm.probes().stream().filter(p -> CONDITION.equals(p.cond())).findFirst().orElseThrow();
        assertEquals("kernel:__x64_sys_write", write.spec());
        assertEquals("if " + CONDITION, write.filterText());
        Table listing = Widgets.table(editor, Messages.ProbeEditor_insn);
        UiTestSupport.waitUntil("the probe marked in the listing", T,
                () -> listing.getItemCount() > 0 && listing.getItem(0).getText(0).contains("\u25cf"));
        UiTestSupport.screenshotMaximized(page(), editor, docs("probe-condition.png"));
        assertEquals(java.util.List.of("fd", "buf", "count"),
                UiTestSupport.nn(write.params()).stream().map(Param::name).toList(), "write's parameters");
        ConsoleView console = show(ConsoleView.ID, ConsoleView.class);
        StyledText output = Widgets.find(console, StyledText.class);
        int before = output.getText().length();
        type(console, "sysloop -n " + WRITES); // WRITES writes of "sysloop" (7 bytes) to /dev/null, fd 3
        UiTestSupport.waitUntil("sysloop's writes in the guest", T,
                () -> output.getText().indexOf("write_calls=" + WRITES, before) >= 0);
        HitsView hits = show(HitsView.ID, HitsView.class);
        Table rows = Widgets.find(hits, Table.class);
        int args = -1;
        for (int c = 0; c < rows.getColumnCount(); c++) {
            args = HitFields.named("args") != null
                    && UiTestSupport.nn(HitFields.named("args")).title().equals(rows.getColumn(c).getText()) ? c : args;
        }
        assertTrue(args >= 0, "an Args column in the hits table");
        int col = args;
        java.util.regex.Pattern named = java.util.regex.Pattern.compile("fd=3 buf=0x[0-9a-f]+ count=7");
        UiTestSupport.waitUntil(WRITES + " writes by name in the hits table", T, () -> {
            int n = 0;
            for (int r = 0; r < rows.getItemCount(); r++) {
                n += named.matcher(rows.getItem(r).getText(col)).matches() ? 1 : 0;
            }
            return n == WRITES;
        });
        // their IP by name: rows drawn before the name came from the agent are drawn again
        int ipCol = Arrays.asList(rows.getColumns())
                .indexOf(Arrays.stream(rows.getColumns())
                        .filter(c -> c.getText().equals(UiTestSupport.nn(HitFields.named("ip")).title())).findFirst()
                        .orElseThrow());
        UiTestSupport.waitUntil(WRITES + " writes at __x64_sys_write in the hits table", T, () -> {
            int n = 0;
            for (int r = 0; r < rows.getItemCount(); r++) {
                n += named.matcher(rows.getItem(r).getText(col)).matches()
                        && rows.getItem(r).getText(ipCol).equals("__x64_sys_write") ? 1 : 0;
            }
            return n == WRITES;
        });
        rows.setTopIndex(Math.max(0, rows.getItemCount() - 1));
        UiTestSupport.screenshotMaximized(page(), hits, docs("hits-args.png"));
        // the condition kept exactly the loop's writes: none of the shell's, nor sysloop's report
        UiTestSupport.waitUntil("the probe's count settled", T,
                () -> UiTestSupport.nn(vm.probe(write.id())).hits() == WRITES);
        // VM Statistics: the in-QEMU tier's counters, as vm-stats has them a moment later (they only grow);
        // the condition refused every other write in the plugin, none of them journalled
        io.hprobe.ui.views.VmStatsView stats = show(io.hprobe.ui.views.VmStatsView.ID,
                io.hprobe.ui.views.VmStatsView.class);
        UiTestSupport.waitUntil("the tier's counters with the writes", T, () -> {
            io.hprobe.core.model.VmStats s = stats.stats();
            return s != null && s.tier() != null && UiTestSupport.nn(s.tier()).hits() >= WRITES
                    && UiTestSupport.nn(s.tier()).filtered() > 0;
        });
        io.hprobe.core.model.VmStats seen = UiTestSupport.nn(stats.stats());
        io.hprobe.core.model.VmStats now = agent.readStats(vm).get(30, TimeUnit.SECONDS);
        for (int i = 0; i < seen.rows().size(); i++) {
            io.hprobe.core.model.VmStats.Row a = seen.rows().get(i), b = now.rows().get(i);
            assertTrue(a.label().equals(b.label()) && a.value() <= b.value(), a + " then " + b);
        }
        Table counters = Widgets.find(stats, Table.class);
        assertEquals(seen.rows().size(), counters.getItemCount());
        assertEquals("Filtered out", counters.getItem(4).getText(0));
        assertEquals("lab: the journal's counters and the in-QEMU tier's, read every second",
                Widgets.all(stats.getViewSite().getShell(), org.eclipse.swt.widgets.Label.class).stream()
                        .map(org.eclipse.swt.widgets.Label::getText).filter(t -> t.startsWith("lab: the journal"))
                        .findFirst().orElse("(no status line)"));
        UiTestSupport.screenshotMaximized(page(), stats, docs("vm-stats.png"));
        // removed, the probe's hits keep their arguments' names: the table asks for its rows again
        agent.removeProbe(vm, write.id()).get(60, TimeUnit.SECONDS);
        UiTestSupport.waitUntil("the write probe gone", T, () -> vm.probe(write.id()) == null);
        show(HitsView.ID, HitsView.class);
        rows.clearAll();
        int stillNamed = 0;
        for (int r = 0; r < rows.getItemCount(); r++) {
            stillNamed += named.matcher(rows.getItem(r).getText(col)).matches() ? 1 : 0;
        }
        assertEquals(WRITES, stillNamed, "a removed probe's hits by name");
        // the probe again, as the tests after this one expect it (a killed agent restores it)
        agent.addProbe(vm,
                new ProbeRequest("kernel:__x64_sys_write", 3, null, false, -1, null, false, true, CONDITION, null))
                .get(60, TimeUnit.SECONDS);
    }

    @Test
    @Order(9)
    void aggregationViewShowsTheSumsByKey() throws Exception {
        assumeTrue(vm != null, "no lab VM (the launch step failed)");
        // sysloop's 7-byte writes summed by comm and size in the agent, shown as rows, bars and buckets;
        // the probe from the editor's form, whose Aggregate field the agent compiles
        ProbeEditorView editor = show(ProbeEditorView.ID, ProbeEditorView.class);
        Widgets.find(editor, Text.class, t -> Messages.ProbeForm_specHint.equals(t.getMessage()), "the spec field")
                .setText("kernel:__x64_sys_write");
        Widgets.find(editor, Text.class, t -> Messages.ProbeForm_ifHint.equals(t.getMessage()), "the condition field")
                .setText("fd == 3 && comm == \"sysloop\"");
        Text agg = Widgets.find(editor, Text.class, t -> Messages.ProbeForm_aggHint.equals(t.getMessage()),
                "the aggregation field");
        agg.setText("hist(cnt) by comm"); // refused by the agent, which names the column
        editor.addFromForm();
        UiTestSupport.waitUntil("the agent's refusal", T, () -> io.hprobe.ui.internal.Jobs.lastFailure() != null);
        String refused = UiTestSupport.nn(io.hprobe.ui.internal.Jobs.takeLastFailure());
        assertTrue(refused.contains("--agg: column 6: unknown name"), refused);
        agg.setText("hist(count) by comm");
        editor.addFromForm();
        UiTestSupport.waitUntil("the aggregating probe armed", T, () -> UiTestSupport.failOnErrorDialog() && vm.probes()
                .stream().anyMatch(p -> "hist(count) by comm".equals(p.agg()) && "armed".equals(p.state())));
        int id = vm.probes().stream().filter(p -> "hist(count) by comm".equals(p.agg())).findFirst().orElseThrow().id();
        agg.setText(""); // the form's next probe journals again
        AggregationView view = show(AggregationView.ID, AggregationView.class);
        view.select(id);
        ConsoleView console = show(ConsoleView.ID, ConsoleView.class);
        StyledText output = Widgets.find(console, StyledText.class);
        int before = output.getText().length();
        type(console, "sysloop -n " + WRITES);
        UiTestSupport.waitUntil("sysloop's writes in the guest", T,
                () -> output.getText().indexOf("write_calls=" + WRITES, before) >= 0);
        view = show(AggregationView.ID, AggregationView.class);
        AggregationView v = view;
        UiTestSupport.waitUntil(WRITES + " writes of 7 bytes by sysloop in the view", T, () -> {
            io.hprobe.core.model.AggTable t = v.table();
            return t != null && t.hits() == WRITES && t.rows().size() == 1
                    && t.rows().get(0).key().equals(java.util.List.of("sysloop")) && t.rows().get(0).hist()
                            .equals(java.util.List.of(new io.hprobe.core.model.AggTable.Bucket("4", "7", WRITES)));
        });
        Table rows = Widgets.find(view, Table.class);
        UiTestSupport.waitUntil("the row in the table", T,
                () -> rows.getItemCount() == 1 && "sysloop".equals(rows.getItem(0).getText(0))
                        && Integer.toString(WRITES).equals(rows.getItem(0).getText(1)));
        // a header click sorts by that column, largest first for a figure; a second click turns it
        rows.getColumn(1).notifyListeners(SWT.Selection, new Event());
        assertEquals(rows.getColumn(1), rows.getSortColumn());
        assertEquals(SWT.DOWN, rows.getSortDirection());
        rows.getColumn(1).notifyListeners(SWT.Selection, new Event());
        assertEquals(SWT.UP, rows.getSortDirection());
        assertEquals("sysloop", rows.getItem(0).getText(0));
        UiTestSupport.screenshotMaximized(page(), view, docs("aggregation.png"));
        agent.removeProbe(vm, id).get(60, TimeUnit.SECONDS);
    }
    @Test
    @Order(10)
    void theLatencyViewShowsAReturnProbesCalls() throws Exception {
        assumeTrue(vm != null, "no lab VM (the launch step failed)");
        // no time range left from an earlier step: the views show every hit
        io.hprobe.ui.HProbeUi.context().timeRange(vm, io.hprobe.ui.UiContext.ALL, io.hprobe.ui.UiContext.ALL);
        Probe ret = agent.addProbe(vm, new ProbeRequest("kernel:__x64_sys_getpid%return", 0, null, false, -1, "sysloop",
                false, true, null, null)).get(60, TimeUnit.SECONDS);
        LatencyView view = show(LatencyView.ID, LatencyView.class);
        view.select(ret.id());
        ConsoleView console = show(ConsoleView.ID, ConsoleView.class);
        StyledText output = Widgets.find(console, StyledText.class);
        int before = output.getText().length();
        int loop = 200;
        type(console, "sysloop -g -n " + loop);
        UiTestSupport.waitUntil("sysloop's getpid calls in the guest", T,
                () -> output.getText().indexOf("getpid_calls=" + loop, before) >= 0);
        // the loop's calls and the one sysloop makes first to print its pid: each a return with its latency
        int calls = loop + 1;
        UiTestSupport.waitUntil(calls + " returns held", T, () -> UiTestSupport.nn(vm.probe(ret.id())).hits() == calls
                && vm.hits().perProbe().getOrDefault(ret.id(), new long[1])[0] == calls);
        view = show(LatencyView.ID, LatencyView.class);
        LatencyView v = view;
        UiTestSupport.waitUntil(calls + " calls in the view", T, () -> v.latencies().count() == calls);
        io.hprobe.core.timeline.Latencies l = v.latencies();
        assertEquals(calls, java.util.Arrays.stream(l.buckets()).sum(), "the histogram holds every call");
        assertTrue(l.min() > 0 && l.min() <= l.p50() && l.p50() <= l.p90() && l.p90() <= l.p99() && l.p99() <= l.max(),
                l.toString());
        // the same figures from the hits themselves: every return held, each with a latency
        long[] lat = java.util.stream.LongStream.range(vm.hits().first(), vm.hits().size())
                .filter(i -> vm.hits().probe(i) == ret.id()).map(i -> vm.hits().latency(i)).sorted().toArray();
        assertEquals(calls, lat.length);
        assertEquals(lat[(int) Math.ceil(0.5 * calls) - 1], l.p50());
        assertEquals(lat[calls - 1], l.max());
        Label status = Widgets.find(view, Label.class, x -> x.getText().startsWith(calls + " calls: p50 "),
                "the view's figures");
        assertTrue(status.getText().contains("p99 "), status.getText());
        // a call clicked: the Properties view shows that hit, with its return value and latency
        view.selectCall(l.points().length - 1);
        UiTestSupport.waitUntil("the call selected", T,
                () -> page().getSelection() instanceof org.eclipse.jface.viewers.IStructuredSelection sel
                        && sel.getFirstElement() instanceof io.hprobe.ui.internal.HitSelection hs
                        && vm.hits().latency(hs.index()) >= 0 && vm.hits().probe(hs.index()) == ret.id());
        UiTestSupport.screenshotMaximized(page(), view, docs("latency.png"));
        // the click moved the Hit Timeline there, which narrowed the hits table to its range (every call
        // is in it): the hits table says what each call returned (sysloop's pid) and how long it took,
        // each once (a tail selection must not start before the range's own selection is merged)
        HitsView hits = show(HitsView.ID, HitsView.class);
        Table rows = Widgets.find(hits, Table.class);
        java.util.regex.Pattern returned = java.util.regex.Pattern.compile("ret=[1-9][0-9]* lat=[0-9.]+ (ns|µs|ms|s)");
        UiTestSupport.waitUntil(calls + " returns in the hits table", T, () -> {
            int n = 0;
            for (int r = 0; r < rows.getItemCount(); r++) {
                for (int c = 0; c < rows.getColumnCount(); c++) {
                    n += returned.matcher(rows.getItem(r).getText(c)).matches() ? 1 : 0;
                }
            }
            return n == calls;
        });
        // the Hit Timeline's range narrows it (Trace Compass's linked time range): none of its calls
        // 20 s before the first, and all of them again when the timeline shows every hit
        LatencyView lv = show(LatencyView.ID, LatencyView.class);
        long first = UiTestSupport.nn(vm.hits().perProbe().get(ret.id()))[1];
        io.hprobe.ui.HProbeUi.context().focusTime(vm, first - 20_000_000_000L, -1);
        UiTestSupport.waitUntil("no call in the timeline's range", T, () -> lv.latencies().count() == 0);
        // the hits table filters by it too: no row then
        show(HitsView.ID, HitsView.class);
        UiTestSupport.waitUntil("no hit in the timeline's range", T, () -> rows.getItemCount() == 0);
        io.hprobe.ui.HProbeUi.context().timeRange(vm, io.hprobe.ui.UiContext.ALL, io.hprobe.ui.UiContext.ALL);
        UiTestSupport.waitUntil("every call again", T, () -> lv.latencies().count() == calls);
        UiTestSupport.waitUntil("every hit again", T, () -> rows.getItemCount() == vm.hits().count());
        // the Hit Rate view: the return probe's line counts its calls, each held hit is in a line
        io.hprobe.ui.views.HitRateView rate = show(io.hprobe.ui.views.HitRateView.ID,
                io.hprobe.ui.views.HitRateView.class);
        UiTestSupport.waitUntil("every held hit in the rates", T,
                () -> rate.shown() != null && UiTestSupport.nn(rate.shown()).total() == vm.hits().count());
        io.hprobe.core.timeline.Timeline counted = UiTestSupport.nn(rate.shown());
        int lane = java.util.Arrays.binarySearch(counted.laneKeys(), ret.id());
        assertTrue(lane >= 0, "the return probe has a line");
        assertEquals(calls, java.util.Arrays.stream(counted.counts()[lane]).sum());
        UiTestSupport.screenshotMaximized(page(), rate, docs("hit-rate.png"));
        agent.removeProbe(vm, ret.id()).get(60, TimeUnit.SECONDS);
    }

    @Test
    @Order(11)
    void probeSetsAreSavedOpenedDroppedAndUndone() throws Exception {
        assumeTrue(vm != null, "no lab VM (the launch step failed)");
        Path dir = Files.createTempDirectory("hprobe-ui-sets");
        // File > Save Probe Set As: what the VM has, as the CLI writes it
        Path saved = dir.resolve("saved.json");
        finished(io.hprobe.ui.internal.ProbeSets.save(vm, saved));
        com.google.gson.JsonObject set = com.google.gson.JsonParser
                .parseString(Files.readString(saved, StandardCharsets.UTF_8)).getAsJsonObject();
        assertEquals("hprobe-probeset", set.get("format").getAsString());
        assertEquals(vm.probes().stream().filter(p -> p.detector() == 0).map(Probe::spec).sorted().toList(),
                set.getAsJsonArray("probes").asList().stream().map(e -> e.getAsJsonObject().get("spec").getAsString())
                        .sorted().toList());
        // File > Open Probe Set with a set whose second probe does not compile: refused by line and
        // member, and its first probe taken back
        Path bad = dir.resolve("bad.json");
        Files.writeString(bad,
                "{\"format\": \"hprobe-probeset\", \"version\": 1, \"probes\": [\n"
                        + " {\"spec\": \"kernel:__x64_sys_getppid\"},\n"
                        + " {\"spec\": \"kernel:__x64_sys_getppid\", \"if\": \"cnt > 1\"}]}\n");
        finished(io.hprobe.ui.internal.ProbeSets.open(vm, bad));
        String refused = UiTestSupport.nn(io.hprobe.ui.internal.Jobs.takeLastFailure());
        assertTrue(refused.contains("bad.json:3: probes[1].if: InvalidArgument: --if: column 1: unknown name"),
                refused);
        assertTrue(refused.contains("the 1 probe and 0 detectors it had added were removed"), refused);
        UiTestSupport.waitUntil("no getppid probe left", T,
                () -> vm.probes().stream().noneMatch(p -> p.spec().equals("kernel:__x64_sys_getppid")));
        // the set mended and dropped on the VM in the VM Browser: its probe comes; Edit > Undo takes it back
        Path good = dir.resolve("good.json");
        Files.writeString(good, "{\"format\": \"hprobe-probeset\", \"version\": 1, \"probes\": [\n"
                + " {\"spec\": \"kernel:__x64_sys_getppid\", \"comm\": \"sysloop\"}]}\n");
        assertTrue(io.hprobe.ui.views.FileDrop.drop(vm, new String[]{ good.toString() }));
        UiTestSupport.waitUntil("the dropped set's probe armed", T,
                () -> UiTestSupport.failOnErrorDialog()
                        && vm.probes().stream().anyMatch(p -> p.spec().equals("kernel:__x64_sys_getppid")
                                && "sysloop".equals(p.comm()) && "armed".equals(p.state())));
        org.eclipse.core.commands.operations.IOperationHistory history = PlatformUI.getWorkbench().getOperationSupport()
                .getOperationHistory();
        org.eclipse.core.commands.operations.IUndoContext context = PlatformUI.getWorkbench().getOperationSupport()
                .getUndoContext();
        UiTestSupport.waitUntil("the load on top of the undo history", T,
                () -> history.getUndoOperation(context) instanceof io.hprobe.ui.operations.LoadProbeSetOperation);
        assertEquals(IStatus.OK, history.undo(context, null, null).getSeverity());
        UiTestSupport.waitUntil("the set's probe removed by Undo", T,
                () -> vm.probes().stream().noneMatch(p -> p.spec().equals("kernel:__x64_sys_getppid")));
        assertTrue(UiTestSupport.commandEnabled("io.hprobe.ui.openProbeSet"), "Open Probe Set for a live VM");
        assertTrue(UiTestSupport.commandEnabled("io.hprobe.ui.saveProbeSet"), "Save Probe Set for a live VM");
    }

    @Test
    @Order(12)
    void aKilledAgentIsStartedAgainWithItsVmAndProbes() throws Exception {
        assumeTrue(vm != null, "no lab VM (the launch step failed)");
        long pid = agent.info().get("pid").getAsLong();
        List<Integer> probes = vm.probes().stream().filter(p -> p.detector() == 0).map(Probe::id).sorted().toList();
        assertTrue(!probes.isEmpty(), "probes to recover");
        // a crash, as the CI once saw: no AGENT_SHUTDOWN, the socket just drops
        assertEquals(0, new ProcessBuilder("kill", "-9", Long.toString(pid)).start().waitFor());
        UiTestSupport.waitUntil(
                () -> "the workbench to start hprobed again, with the VM and its probes; " + diagnostics(), BOOT,
                () -> {
                    UiTestSupport.failOnErrorDialog();
                    Vm back = agent.vm(vm.name());
                    return agent.state() == Agent.State.CONNECTED && agent.info().get("pid").getAsLong() != pid
                            && back != null && back.info().isRunning() && probes.equals(back.probes().stream()
                                    .filter(p -> p.detector() == 0).map(Probe::id).sorted().toList());
                });
        assertTrue(agent.vm(vm.name()) == vm, "the same VM object, shown where it was");
    }

    /** Runs the event loop until the job is done. */
    private static void finished(@org.eclipse.jdt.annotation.Nullable Job job) {
        assertNotNull(job, "the job was started (the hprobe CLI was found)");
        UiTestSupport.waitUntil(job.getName(), T, () -> job.getResult() != null);
    }
}
