package io.hprobe.ui.tests;

import static io.hprobe.ui.tests.UiTestSupport.docs;
import static io.hprobe.ui.tests.UiTestSupport.page;
import static io.hprobe.ui.tests.UiTestSupport.show;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

import org.eclipse.jface.dialogs.ErrorDialog;
import org.eclipse.swt.widgets.Shell;
import org.eclipse.swt.widgets.Table;
import org.eclipse.swt.widgets.Tree;
import org.eclipse.swt.widgets.TreeItem;
import org.eclipse.ui.PlatformUI;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;

import io.hprobe.core.model.Agent;
import io.hprobe.core.model.Probe;
import io.hprobe.core.model.ProbeRequest;
import io.hprobe.core.model.Vm;
import io.hprobe.ui.HProbeUi;
import io.hprobe.ui.Messages;
import io.hprobe.ui.internal.Jobs;
import io.hprobe.ui.preferences.Prefs;
import io.hprobe.ui.views.HitsView;
import io.hprobe.ui.views.VmBrowserView;

/**
 * The VM Browser's libvirt node against the real agent and a real libvirtd with a real domain: a transient
 * TCG domain booted from the lab guest by native/tests/integration/libvirtlab.py (which starts libvirtd
 * itself, as root, when none runs). The domain shows under the libvirt node, running; a double-click
 * attaches it; the VM shows where it comes from and the domain shows attached; a probe on getpid takes the
 * hits of a program run on the domain's own console; Detach leaves the domain running and attachable again;
 * an attach the agent refuses (the domain went away behind the workbench's back) says why in the agent's
 * words; another connection URI is remembered, and why libvirt cannot be reached there shows on the node.
 * Screenshots go to docs/images (the user guide's) and target/screenshots.
 */
@Timeout(value = 480, unit = TimeUnit.SECONDS)
@ExtendWith(ScreenshotOnFailure.class)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class LibvirtWorkbenchUITest {

    private static final String DOMAIN = "hpui-libvirt";
    private static final Duration BOOT = Duration.ofSeconds(360);
    private static final Duration T = Duration.ofSeconds(90);
    private static final int CALLS = 200;

    /** What libvirtlab.py up said: uri, name, uuid, console_log, console_sock... */
    private static JsonObject domain;
    private static Agent agent;
    private static Vm vm;

    @BeforeAll
    static void aDomainOnARealLibvirtd() throws Exception {
        UiTestSupport.agentBinary();
        Path out = Files.createTempFile("libvirtlab-up", ".json");
        Path err = Files.createTempFile("libvirtlab-up", ".log");
        Process p = libvirtlab("up", DOMAIN).redirectOutput(out.toFile()).redirectError(err.toFile()).start();
        // booting takes a while: keep the workbench's event loop turning meanwhile
        UiTestSupport.waitUntil(() -> "libvirtlab.py up " + DOMAIN + ": " + tail(err), BOOT, () -> !p.isAlive());
        if (p.exitValue() == 77) {
            String why = tail(err);
            if ("1".equals(System.getenv("HPROBE_NO_SKIPS"))) {
                fail("HPROBE_NO_SKIPS=1 and no libvirt domain here: " + why);
            }
            assumeTrue(false, why);
        }
        assertEquals(0, p.exitValue(), "libvirtlab.py up failed: " + tail(err));
        domain = JsonParser.parseString(Files.readString(out)).getAsJsonObject();
        Jobs.takeLastFailure(); // an earlier test class's: this class checks its own
        Files.deleteIfExists(out);
        Files.deleteIfExists(err);
    }

    @AfterAll
    static void detachStopTheAgentAndDestroyTheDomain() throws Exception {
        try {
            if (vm != null && HProbeUi.context().vm() == vm) {
                HProbeUi.context().selectVm(null); // the next test class starts with no VM of ours shown
            }
            if (agent != null) {
                try {
                    Vm attached = agent.vm(DOMAIN);
                    if (attached != null) {
                        agent.detach(attached).get(60, TimeUnit.SECONDS);
                    }
                } finally {
                    UiTestSupport.shutDownAgent(agent, T);
                    UiTestSupport.deleteTree(agent.socket().getParent());
                }
            }
        } finally {
            if (domain != null) {
                Process p = libvirtlab("down", DOMAIN).redirectErrorStream(true).start();
                String text = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
                assertTrue(p.waitFor(120, TimeUnit.SECONDS), "libvirtlab.py down finished");
                assertEquals(0, p.exitValue(), "libvirtlab.py down: " + text);
            }
        }
    }

    private static ProcessBuilder libvirtlab(String command, String name) {
        Path script = Path.of(System.getProperty("hprobe.libvirtlab", Path.of(System.getProperty("hprobe.docs", "."))
                .resolveSibling("native/tests/integration/libvirtlab.py").toString()));
        return new ProcessBuilder(List.of("python3", script.toString(), command, name))
                .directory(script.getParent().toFile());
    }

    private static String tail(Path log) {
        try {
            List<String> lines = Files.readAllLines(log);
            return String.join("\n", lines.subList(Math.max(0, lines.size() - 15), lines.size()));
        } catch (IOException e) {
            return "(no log: " + e.getMessage() + ")";
        }
    }

    private static Path screenshots(String name) {
        return Path.of(System.getProperty("hprobe.screenshots", System.getProperty("java.io.tmpdir"))).resolve(name);
    }

    /** Waits up to T; a failure says what was awaited, the agent's state and its log's tail. */
    private static void waitFor(String what, BooleanSupplier condition) {
        UiTestSupport.waitUntil(() -> what + "; " + UiTestSupport.diagnostics(agent), T, condition);
    }

    /** The domain's row under the libvirt node, or null. */
    private static TreeItem domainRow(Tree tree) {
        return Widgets.itemWith(tree, Messages.VmBrowser_libvirt, DOMAIN);
    }

    private static String cell(Tree tree, TreeItem item, String column) {
        int c = Widgets.column(tree, column);
        assertTrue(c >= 0, "no column " + column);
        return item.getText(c);
    }

    /** Types a line into the domain's serial console, as virsh console would. */
    private static void typeOnConsole(String line) throws IOException {
        try (SocketChannel ch = SocketChannel.open(StandardProtocolFamily.UNIX)) {
            ch.connect(UnixDomainSocketAddress.of(domain.get("console_sock").getAsString()));
            ByteBuffer b = ByteBuffer.wrap((line + "\n").getBytes(StandardCharsets.US_ASCII));
            while (b.hasRemaining()) {
                ch.write(b);
            }
            // QEMU reads as fast as the guest's UART drains: stay connected until it has
            UiTestSupport.waitQuietly(Duration.ofMillis(500), () -> false);
        }
    }

    private static String consoleLog() {
        try {
            return Files.readString(Path.of(domain.get("console_log").getAsString()), StandardCharsets.ISO_8859_1);
        } catch (IOException e) {
            return "";
        }
    }

    private static String virsh(String... args) throws Exception {
        List<String> cmd = new java.util.ArrayList<>(List.of("virsh", "-c", domain.get("uri").getAsString()));
        cmd.addAll(List.of(args));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String text = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(60, TimeUnit.SECONDS));
        return text.trim();
    }

    @Test
    @Order(1)
    void theDomainIsListedRunningUnderTheLibvirtNode() throws Exception {
        VmBrowserView browser = show(VmBrowserView.ID, VmBrowserView.class);
        agent = UiTestSupport.connectedLocalAgent(T);
        assertEquals("qemu:///system", agent.libvirt().uri(), "the default connection");
        Tree tree = Widgets.find(browser, Tree.class);
        // the workbench may have listed before the domain was up: refresh, as a user would
        Widgets.toolbarAction(browser, Messages.VmBrowser_refreshLibvirt).run();
        UiTestSupport.waitUntil(() -> "the domain under the libvirt node; libvirt: " + agent.libvirt().state() + " "
                + agent.libvirt().error() + " " + agent.libvirt().domains(), T, () -> {
                    TreeItem row = domainRow(tree);
                    return row != null && "running".equals(cell(tree, row, Messages.VmBrowser_state));
                });
        TreeItem node = domainRow(tree).getParentItem();
        assertEquals("qemu:///system", cell(tree, node, Messages.VmBrowser_kernel), "the node names its connection");
        TreeItem row = domainRow(tree);
        assertEquals("uuid " + domain.get("uuid").getAsString(), cell(tree, row, Messages.VmBrowser_kernel));
        UiTestSupport.settle(tree.getDisplay());
        UiTestSupport.screenshotMaximized(page(), browser, screenshots("libvirt-listed.png"));
    }

    @Test
    @Order(2)
    void aDoubleClickAttachesTheDomain() throws Exception {
        assumeTrue(agent != null && agent.libvirt().domain(DOMAIN) != null, "the domain is not listed");
        VmBrowserView browser = show(VmBrowserView.ID, VmBrowserView.class);
        Tree tree = Widgets.find(browser, Tree.class);
        Widgets.doubleClick(tree, domainRow(tree));
        waitFor("the domain attached and its VM selected", () -> {
            UiTestSupport.failOnErrorDialog();
            Vm selected = HProbeUi.context().vm();
            return selected != null && DOMAIN.equals(selected.name()) && selected.info().isRunning();
        });
        vm = agent.vm(DOMAIN);
        assertNotNull(vm);
        assertEquals("libvirt", vm.info().source().kind());
        assertEquals(domain.get("uuid").getAsString(), vm.info().source().uuid());
        assertEquals("tcg", vm.info().accel());
        assertTrue(vm.info().kernel().startsWith("6."), vm.info().kernel());
        waitFor("the domain shown attached, the VM shown with its source", () -> {
            TreeItem row = domainRow(tree);
            TreeItem vmRow = Widgets.itemOf(tree, vm);
            return row != null && ("attached as " + DOMAIN).equals(cell(tree, row, Messages.VmBrowser_kernel))
                    && vmRow != null && cell(tree, vmRow, Messages.VmBrowser_source)
                            .startsWith("libvirt qemu:///system: " + DOMAIN + ", pid ");
        });
        waitFor("the guest's processes", () -> vm.processes().size() > 5);
        // the user folds the process list to see the domains below it
        waitFor("the processes shown", () -> Widgets.itemOf(tree, vm).getExpanded());
        Widgets.collapse(tree, Widgets.itemOf(tree, vm));
        Widgets.click(tree, Widgets.itemOf(tree, vm));
        UiTestSupport.settle(tree.getDisplay());
        assertTrue(!Widgets.itemOf(tree, vm).getExpanded(), "a folded VM stays folded");
        UiTestSupport.screenshotMaximized(page(), browser, docs("vm-browser-libvirt.png"));
    }

    @Test
    @Order(3)
    void aKernelProbeTakesTheHitsOfAProgramOnTheDomainsConsole() throws Exception {
        assumeTrue(vm != null, "not attached (an earlier step failed)");
        Probe probe = agent.addProbe(vm,
                new ProbeRequest("kernel:__x64_sys_getpid", 2, null, false, -1, "sysloop", false, true, null, null))
                .get(60, TimeUnit.SECONDS);
        assertEquals("armed", probe.state());
        assertEquals("gdbstub", probe.mechanism(), "an attached domain's probes are on the gdbstub tier");
        int before = consoleLog().length();
        typeOnConsole("sysloop -g -n " + CALLS);
        waitFor("sysloop to finish in the guest", () -> consoleLog().indexOf("getpid_calls=" + CALLS, before) >= 0);
        waitFor("the probe's " + CALLS + " hits in the workbench", () -> vm.probe(probe.id()) != null
                && UiTestSupport.nn(vm.probe(probe.id())).hits() >= CALLS && vm.hits().count() >= CALLS);
        // sysloop calls getpid once at its start (to print its pid), then CALLS times in its loop
        assertEquals(CALLS + 1, UiTestSupport.nn(vm.probe(probe.id())).hits(), "every getpid of sysloop, no other");
        HitsView hits = show(HitsView.ID, HitsView.class);
        Table rows = Widgets.find(hits, Table.class);
        waitFor("rows in the hits table", () -> rows.getItemCount() >= CALLS);
        UiTestSupport.screenshotMaximized(page(), hits, screenshots("libvirt-hits.png"));
    }

    @Test
    @Order(4)
    void detachLeavesTheDomainRunningAndAttachableAgain() throws Exception {
        assumeTrue(vm != null, "not attached (an earlier step failed)");
        VmBrowserView browser = show(VmBrowserView.ID, VmBrowserView.class);
        Tree tree = Widgets.find(browser, Tree.class);
        Widgets.click(tree, Widgets.itemOf(tree, vm));
        Widgets.contextMenu(tree, Messages.VmBrowser_detach);
        waitFor("the VM detached and the domain shown attachable", () -> {
            UiTestSupport.failOnErrorDialog();
            TreeItem row = domainRow(tree);
            // the VM's row goes with the model's next refresh of the tree, which may come after the domain's
            return agent.vm(DOMAIN) == null && row != null && Widgets.itemOf(tree, vm) == null
                    && cell(tree, row, Messages.VmBrowser_kernel).startsWith("uuid ")
                    && "running".equals(cell(tree, row, Messages.VmBrowser_state));
        });
        assertNull(Widgets.itemOf(tree, vm), "the VM left the tree");
        assertTrue(vm.isGone());
        assertEquals("running", virsh("domstate", DOMAIN), "libvirt still runs the domain");
        // nothing of ours holds it: it runs at full speed, no breakpoint left behind
        int before = consoleLog().length();
        typeOnConsole("sysloop -g -n 1000");
        waitFor("sysloop to run freely", () -> consoleLog().indexOf("getpid_calls=1000", before) >= 0);
        UiTestSupport.screenshotMaximized(page(), browser, screenshots("libvirt-detached.png"));
    }

    @Test
    @Order(5)
    void anAttachTheAgentRefusesSaysWhyInADialog() throws Exception {
        assumeTrue(agent != null && agent.libvirt().domain(DOMAIN) != null, "the domain is not listed");
        VmBrowserView browser = show(VmBrowserView.ID, VmBrowserView.class);
        Tree tree = Widgets.find(browser, Tree.class);
        // the domain goes away behind the workbench's back: its row still shows it running
        virsh("destroy", DOMAIN);
        assertEquals("running", cell(tree, domainRow(tree), Messages.VmBrowser_state));
        assertNull(Jobs.lastFailure(), "no failure before");
        // the harness keeps error dialogs closed (AUTOMATED_MODE): this one is what the user sees, so open it
        boolean automated = ErrorDialog.AUTOMATED_MODE;
        ErrorDialog.AUTOMATED_MODE = false;
        try {
            // the context menu's other attach: plugin false reaches the agent, which refuses for the domain's sake
            Widgets.click(tree, domainRow(tree));
            Widgets.contextMenu(tree, Messages.VmBrowser_attachDomainNoPlugin);
            waitFor("the attach to fail", () -> Jobs.lastFailure() != null);
            String failure = UiTestSupport.nn(Jobs.takeLastFailure());
            assertTrue(failure.contains("libvirt (qemu:///system) has no domain '" + DOMAIN + "'"),
                    "the agent's words: " + failure);
            waitFor("the error dialog", () -> errorDialog() != null);
            Shell dialog = UiTestSupport.nn(errorDialog());
            UiTestSupport.settle(dialog.getDisplay());
            UiTestSupport.screenshot(dialog, screenshots("libvirt-attach-error.png"));
            dialog.close();
        } finally {
            ErrorDialog.AUTOMATED_MODE = automated;
        }
        Widgets.toolbarAction(browser, Messages.VmBrowser_refreshLibvirt).run();
        waitFor("the domain gone from the libvirt node",
                () -> domainRow(tree) == null && agent.libvirt().domain(DOMAIN) == null);
        assertTrue(agent.vms().isEmpty(), "a failed attach leaves no VM");
    }

    @Test
    @Order(6)
    void anotherConnectionIsRememberedAndWhyItFailsShown() throws Exception {
        assumeTrue(agent != null, "no agent (an earlier step failed)");
        VmBrowserView browser = show(VmBrowserView.ID, VmBrowserView.class);
        Tree tree = Widgets.find(browser, Tree.class);
        String bad = "qemu:///nonexistent-driver";
        // what the libvirt node's Set Connection URI... dialog stores
        Prefs.store().setValue(Prefs.LIBVIRT_URI, bad);
        try {
            waitFor("the node on the other connection, failed", () -> {
                TreeItem node = libvirtNode(tree);
                return node != null && agent.libvirt().error() != null
                        && Messages.VmBrowser_libvirtFailed.equals(cell(tree, node, Messages.VmBrowser_state));
            });
            assertEquals(bad, agent.libvirt().uri());
            String why = UiTestSupport.nn(agent.libvirt().error());
            assertTrue(why.contains(bad), "the agent's words name the connection: " + why);
            assertEquals(why, cell(tree, libvirtNode(tree), Messages.VmBrowser_kernel), "shown on the node itself");
            UiTestSupport.screenshotMaximized(page(), browser, screenshots("libvirt-unavailable.png"));
        } finally {
            Prefs.store().setToDefault(Prefs.LIBVIRT_URI);
        }
        waitFor("the default connection again", () -> "qemu:///system".equals(agent.libvirt().uri())
                && agent.libvirt().state() == io.hprobe.core.model.LibvirtConnection.State.LISTED);
        assertNull(Jobs.lastFailure(), "a listing that fails opens no dialog: the node shows it");
    }

    private static TreeItem libvirtNode(Tree tree) {
        for (TreeItem agentRow : tree.getItems()) {
            for (TreeItem i : agentRow.getItems()) {
                if (Messages.VmBrowser_libvirt.equals(i.getText(0))) {
                    return i;
                }
            }
        }
        return null;
    }

    private static Shell errorDialog() {
        for (Shell s : PlatformUI.getWorkbench().getDisplay().getShells()) {
            if (s.isVisible() && Messages.Error_title.equals(s.getText())) {
                return s;
            }
        }
        return null;
    }
}
