package io.hprobe.ui.tests;

import static io.hprobe.ui.tests.UiTestSupport.docs;
import static io.hprobe.ui.tests.UiTestSupport.page;
import static io.hprobe.ui.tests.UiTestSupport.show;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

import org.eclipse.core.runtime.IStatus;
import org.eclipse.core.runtime.jobs.Job;
import org.eclipse.jface.dialogs.IDialogConstants;
import org.eclipse.jface.wizard.WizardDialog;
import org.eclipse.swt.SWT;
import org.eclipse.swt.custom.StyledText;
import org.eclipse.swt.widgets.Button;
import org.eclipse.swt.widgets.Display;
import org.eclipse.swt.widgets.Event;
import org.eclipse.swt.widgets.Shell;
import org.eclipse.swt.widgets.Text;
import org.eclipse.swt.widgets.Tree;
import org.eclipse.swt.widgets.TreeItem;
import org.eclipse.ui.PlatformUI;
import org.eclipse.ui.handlers.IHandlerService;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

import io.hprobe.core.journal.ExportFormat;
import io.hprobe.core.model.Agent;
import io.hprobe.core.model.Probe;
import io.hprobe.core.model.ProbeRequest;
import io.hprobe.core.model.Vm;
import io.hprobe.ui.HProbeUi;
import io.hprobe.ui.dialogs.ConnectDialog;
import io.hprobe.ui.preferences.Prefs;
import io.hprobe.ui.views.ConsoleView;
import io.hprobe.ui.views.VmBrowserView;
import io.hprobe.ui.wizards.ExportWizard;

/**
 * A second agent, on "another host" over SSH: a real hprobed behind a real OpenSSH sshd on 127.0.0.1
 * (releng/scripts/tests/loopback-sshd.sh). Connect to Agent takes its ssh:// URL (a bad one is refused in
 * the dialog); the VM Browser shows it beside the local agent, named by its host; a lab guest launched there
 * shows under it; a probe's hits arrive through the forward with the guest's own count; File > Export Trace
 * exports the remote journal (copied through the protocol, journal-read, over the forward) with every hit.
 */
@Timeout(value = 600, unit = TimeUnit.SECONDS)
@ExtendWith(ScreenshotOnFailure.class)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class RemoteAgentUITest {

    private static final Duration BOOT = Duration.ofSeconds(360);
    private static final Duration T = Duration.ofSeconds(90);
    private static final int LOOP = 60;

    private static Path dir;
    private static Process remote;
    private static Process sshd;
    private static String url;
    private static Agent agent;
    private static Vm vm;

    @BeforeAll
    static void anAgentBehindARealSshd() throws Exception {
        String bin = UiTestSupport.agentBinary();
        dir = Files.createTempDirectory(Path.of("/tmp"), "hprobe-uitest-ssh");
        Path socket = Files.createDirectories(dir.resolve("run")).resolve("hprobed.sock");
        remote = new ProcessBuilder(bin, "--socket", socket.toString(), "--state-dir", dir.resolve("state").toString())
                .redirectErrorStream(true).redirectOutput(dir.resolve("hprobed.out").toFile()).start();
        int port;
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            port = s.getLocalPort();
        }
        Path sshdDir = Files.createDirectories(dir.resolve("sshd"));
        sshd = new ProcessBuilder(System.getProperty("hprobe.sshd"), sshdDir.toString(), Integer.toString(port))
                .redirectErrorStream(true).redirectOutput(dir.resolve("sshd.log").toFile()).start();
        UiTestSupport.waitUntil(() -> "sshd on port " + port + " and the agent's socket: " + log("sshd.log"), T, () -> {
            if (!sshd.isAlive()) {
                assumeTrue(sshd.exitValue() != 77 || "1".equals(System.getenv("HPROBE_NO_SKIPS")), log("sshd.log"));
                fail("sshd exited with " + sshd.exitValue() + ": " + log("sshd.log"));
            }
            return Files.exists(socket) && listening(port);
        });
        Prefs.store().setValue(Prefs.SSH_COMMAND, "ssh -F " + sshdDir.resolve("ssh_config"));
        url = "ssh://" + System.getProperty("user.name") + "@127.0.0.1:" + port + socket;
    }

    @AfterAll
    static void quitTheGuestAndStopBoth() throws Exception {
        try {
            if (vm != null && HProbeUi.context().vm() == vm) {
                HProbeUi.context().selectVm(null);
            }
            if (agent != null) {
                try {
                    if (vm != null && agent.vm(vm.name()) != null) {
                        agent.quit(vm).get(60, TimeUnit.SECONDS); // launched guests outlive their agent
                    }
                } finally {
                    UiTestSupport.shutDownAgent(agent, T);
                }
            }
        } finally {
            Prefs.store().setToDefault(Prefs.SSH_COMMAND);
            for (Process p : new Process[]{ remote, sshd }) {
                if (p != null && !p.waitFor(p == remote ? 20 : 0, TimeUnit.SECONDS)) {
                    p.destroy();
                    p.waitFor(10, TimeUnit.SECONDS);
                }
            }
            UiTestSupport.deleteTree(dir);
        }
    }

    private static boolean listening(int port) {
        try (Socket s = new Socket(InetAddress.getLoopbackAddress(), port)) {
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    private static String log(String name) {
        try {
            return Files.readString(dir.resolve(name));
        } catch (IOException e) {
            return "(" + e.getMessage() + ")";
        }
    }

    private static String diagnostics() {
        return UiTestSupport.diagnostics(agent) + "\nremote hprobed:\n" + log("hprobed.out");
    }

    /** Types target into a Connect to Agent dialog and presses OK; the dialog, closed or not. */
    private static ConnectDialog connect(String target) {
        ConnectDialog d = new ConnectDialog(PlatformUI.getWorkbench().getActiveWorkbenchWindow().getShell());
        d.setBlockOnOpen(false);
        d.open();
        Widgets.all(d.getShell(), Text.class).stream().filter(t -> (t.getStyle() & SWT.READ_ONLY) == 0).findFirst()
                .orElseThrow().setText(target);
        Widgets.all(d.getShell(), Button.class).stream().filter(b -> IDialogConstants.OK_LABEL.equals(b.getText()))
                .findFirst().orElseThrow().notifyListeners(SWT.Selection, new Event());
        return d;
    }

    @Test
    @Order(1)
    void connectToAgentTakesAnSshUrl() throws Exception {
        VmBrowserView browser = show(VmBrowserView.ID, VmBrowserView.class);
        Agent local = UiTestSupport.connectedLocalAgent(T);
        ConnectDialog bad = connect("ssh://alice:secret@vmhost/run/hprobe/hprobed.sock");
        try {
            assertNotNull(bad.getShell(), "a password in the URL is refused in the dialog");
            assertTrue(UiTestSupport.nn(bad.getShell()).isVisible());
        } finally {
            bad.close();
        }
        ConnectDialog d = connect(url);
        assertTrue(d.getShell() == null, "the dialog closed");
        assertEquals(url, d.target());
        agent = HProbeUi.addAgent(d.target(), d.startIfAbsent()); // what the Connect handler does
        UiTestSupport.waitUntil(() -> "the agent over SSH; " + diagnostics(), T,
                () -> agent.state() == Agent.State.CONNECTED);
        assertTrue(HProbeUi.model().agents().containsAll(List.of(local, agent)), "both agents in the model");
        Tree tree = Widgets.find(browser, Tree.class);
        String host = "on " + System.getProperty("user.name") + "@127.0.0.1";
        UiTestSupport.waitUntil("the remote agent's row, named by its host", T, () -> {
            TreeItem row = Widgets.itemOf(tree, agent);
            return row != null && row.getText(0).endsWith(host) && rowHas(row, url);
        });
    }

    private static boolean rowHas(TreeItem row, String text) {
        for (int c = 0; c < row.getParent().getColumnCount(); c++) {
            if (text.equals(row.getText(c))) {
                return true;
            }
        }
        return false;
    }

    @Test
    @Order(2)
    void aGuestOnTheRemoteAgentAndItsHits() throws Exception {
        assumeTrue(agent != null && agent.state() == Agent.State.CONNECTED, "no remote agent (step 1 failed)");
        VmBrowserView browser = show(VmBrowserView.ID, VmBrowserView.class);
        Tree tree = Widgets.find(browser, Tree.class);
        Widgets.click(tree, UiTestSupport.nn(Widgets.itemOf(tree, agent)));
        Widgets.toolbarAction(browser, io.hprobe.ui.Messages.VmBrowser_launch).run(); // on the selected agent
        UiTestSupport.waitUntil(() -> "the lab guest to boot on the remote agent; " + diagnostics(), BOOT, () -> {
            UiTestSupport.failOnErrorDialog();
            Vm v = HProbeUi.context().vm();
            return v != null && v.agent() == agent && v.info().isRunning();
        });
        vm = HProbeUi.context().vm();
        UiTestSupport.waitUntil("the guest under its host's agent in the tree", T, () -> {
            TreeItem a = Widgets.itemOf(tree, agent);
            TreeItem v = Widgets.itemOf(tree, vm);
            return a != null && v != null && v.getParentItem() == a;
        });
        // the probe editor's Browse... browses this machine: not for a program of the remote host
        io.hprobe.ui.views.ProbeEditorView editor = show(io.hprobe.ui.views.ProbeEditorView.ID,
                io.hprobe.ui.views.ProbeEditorView.class);
        Button browse = Widgets.find(editor, Button.class, b -> io.hprobe.ui.Messages.Browse.equals(b.getText()),
                "Browse...");
        UiTestSupport.waitUntil("Browse... off for the remote VM", T, () -> !browse.isEnabled());
        assertTrue(browse.getToolTipText().contains(url), browse.getToolTipText());
        Probe probe = agent.addProbe(vm,
                new ProbeRequest("kernel:__x64_sys_getpid", 0, null, false, -1, "sysloop", false, true, null, null))
                .get(60, TimeUnit.SECONDS);
        ConsoleView console = show(ConsoleView.ID, ConsoleView.class);
        StyledText output = Widgets.find(console, StyledText.class);
        UiTestSupport.waitUntil("the shell prompt in the console", T, () -> output.getText().contains("lab#"));
        Text input = Widgets.find(console, Text.class);
        input.setText("sysloop -g -n " + LOOP);
        Widgets.pressEnter(input);
        UiTestSupport.waitUntil("sysloop's calls in the guest", T,
                () -> output.getText().contains("getpid_calls=" + LOOP));
        // the loop's calls and the one sysloop makes first to print its pid
        int calls = LOOP + 1;
        UiTestSupport.waitUntil(calls + " hits through the forward; " + diagnostics(), T,
                () -> vm.hits().perProbe().getOrDefault(probe.id(), new long[1])[0] == calls);
        agent.removeProbe(vm, probe.id()).get(60, TimeUnit.SECONDS);
        show(VmBrowserView.ID, VmBrowserView.class);
        // each host's agent with its guests, not the guests' processes
        Widgets.collapse(tree, UiTestSupport.nn(Widgets.itemOf(tree, vm)));
        UiTestSupport.screenshotMaximized(page(), browser, docs("remote-agent.png"));
    }

    @Test
    @Order(3)
    void exportTraceCopiesTheRemoteJournal() throws Exception {
        assumeTrue(vm != null, "no remote guest (step 2 failed)");
        UiTestSupport.waitUntil("the journal to hold every hit", T, () -> {
            try {
                return agent.journalInfo(vm).get(5, TimeUnit.SECONDS).get("flushed_seq").getAsLong() > vm.hits()
                        .lastSeq();
            } catch (Exception e) {
                return false;
            }
        });
        HProbeUi.context().selectVm(vm);
        Path out = Files.createTempDirectory("hprobe-remote-export").resolve("trace.jsonl");
        // the handler copies the journal in a job, then opens the wizard (modal): fill it in from the loop
        AtomicReference<ExportWizard> wizard = new AtomicReference<>();
        Display display = PlatformUI.getWorkbench().getDisplay();
        Runnable finish = new Runnable() {

            @Override
            public void run() {
                for (Shell s : display.getShells()) {
                    if (s.getData() instanceof WizardDialog d && d.getCurrentPage() != null
                            && d.getCurrentPage().getWizard() instanceof ExportWizard w && wizard.get() == null) {
                        wizard.set(w);
                        w.preset(ExportFormat.JSONL, out.toString());
                        UiTestSupport.pressButton(s, "Finish");
                        return;
                    }
                }
                if (wizard.get() == null && !display.isDisposed()) {
                    display.timerExec(100, this);
                }
            }
        };
        display.timerExec(100, finish);
        PlatformUI.getWorkbench().getService(IHandlerService.class).executeCommand("io.hprobe.ui.export", null);
        UiTestSupport.waitUntil(() -> "the export wizard on the copied journal; " + diagnostics(), T,
                () -> wizard.get() != null && wizard.get().getJob() != null
                        && UiTestSupport.nn(wizard.get().getJob()).getResult() != null);
        Job job = UiTestSupport.nn(wizard.get().getJob());
        assertEquals(IStatus.OK, job.getResult().getSeverity(), job.getResult().getMessage());
        List<String> lines = Files.readAllLines(out, StandardCharsets.UTF_8);
        assertEquals(LOOP + 1, lines.size(), "one line per hit of the remote journal");
        assertTrue(lines.stream().allMatch(l -> l.matches(".*\"comm\": ?\"sysloop\".*")), lines.get(0));
    }

}
