package io.hprobe.ui.tests;

import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.function.BooleanSupplier;

import org.eclipse.ui.commands.ICommandService;
import org.eclipse.ui.PlatformUI;
import org.eclipse.swt.SWT;
import org.eclipse.swt.graphics.GC;
import org.eclipse.swt.graphics.Image;
import org.eclipse.swt.graphics.ImageData;
import org.eclipse.swt.graphics.ImageLoader;
import org.eclipse.swt.graphics.Point;
import org.eclipse.swt.graphics.Rectangle;
import org.eclipse.swt.widgets.Display;
import org.eclipse.swt.widgets.Shell;

/** Polling and screenshots for tests that run on the UI thread of the workbench. */
final class UiTestSupport {

    private UiTestSupport() {
    }

    /** The hprobed the live tests run (-Dhprobe.agent); without it the test class is skipped. */
    static String agentBinary() {
        String bin = System.getProperty("hprobe.agent", "");
        org.junit.jupiter.api.Assumptions.assumeTrue(!bin.isEmpty() && Files.isExecutable(Path.of(bin)),
                "hprobed not built at '" + bin + "' (-Dhprobe.agent or HPROBE_AGENT): live UI tests skipped");
        return bin;
    }

    static org.eclipse.ui.IWorkbenchPage page() {
        return PlatformUI.getWorkbench().getActiveWorkbenchWindow().getActivePage();
    }

    /** Shows and activates a view, of the type expected. */
    @SuppressWarnings("unchecked")
    static <V extends org.eclipse.ui.IViewPart> V show(String id, Class<V> type) throws Exception {
        org.eclipse.ui.IViewPart part = page().showView(id, null, org.eclipse.ui.IWorkbenchPage.VIEW_ACTIVATE);
        org.junit.jupiter.api.Assertions.assertTrue(type.isInstance(part), id + " is " + part);
        return (V) part;
    }

    /** Where the user guide's screenshots go (docs/images). */
    static Path docs(String name) {
        return Path.of(System.getProperty("hprobe.docs", System.getProperty("java.io.tmpdir"))).resolve("images")
                .resolve(name);
    }

    /** Whether the command's handler is enabled now (its enabledWhen), as its menu item and key see it. */
    static boolean commandEnabled(String id) {
        ICommandService commands = PlatformUI.getWorkbench().getService(ICommandService.class);
        return commands.getCommand(id).isEnabled();
    }

    /** Runs the event loop until the condition holds; fails after the timeout (never a fixed sleep). */
    static void waitUntil(String what, Duration timeout, BooleanSupplier condition) {
        waitUntil(() -> what, timeout, condition);
    }

    /** {@link #waitUntil(String, Duration, BooleanSupplier)} whose failure message is computed at the failure. */
    static void waitUntil(java.util.function.Supplier<String> what, Duration timeout, BooleanSupplier condition) {
        Display display = Display.getCurrent();
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                fail("timed out after " + timeout + " waiting for " + what.get());
            }
            if (!display.readAndDispatch()) {
                try {
                    Thread.sleep(10); // queue empty: let X deliver the next event
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    fail("interrupted waiting for " + what.get());
                }
            }
        }
    }

    /** Like waitUntil, for what is nice to have (a focused window for a screenshot): never fails. */
    static void waitQuietly(Duration timeout, BooleanSupplier condition) {
        Display display = Display.getCurrent();
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!condition.getAsBoolean() && System.nanoTime() < deadline) {
            if (!display.readAndDispatch()) {
                try {
                    Thread.sleep(10);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return;
                }
            }
        }
    }

    /** Processes every pending event and paint, so that a screenshot shows the settled window. */
    static void settle(Display display) {
        for (int idleRounds = 0; idleRounds < 3;) {
            if (display.readAndDispatch()) {
                idleRounds = 0;
            } else {
                display.update();
                idleRounds++;
            }
        }
    }

    /**
     * The shell as the X server shows it: from its top-left corner (its frame's, under a window manager) to
     * the bottom-right of its client area. Shell.getBounds() adds a guessed trim when no window manager
     * reports one (Xvfb), which would capture the empty root window below and beside the shell.
     */
    static Rectangle windowArea(Shell shell) {
        Point topLeft = shell.getLocation();
        Rectangle client = shell.getClientArea();
        Point clientOrigin = shell.toDisplay(client.x, client.y);
        return new Rectangle(topLeft.x, topLeft.y, clientOrigin.x + client.width - topLeft.x,
                clientOrigin.y + client.height - topLeft.y);
    }

    /** Points a chart's XY dataset draws (0 without a dataset). */
    static int points(org.jfree.chart.JFreeChart chart) {
        org.jfree.data.xy.XYDataset d = chart.getXYPlot().getDataset();
        int n = 0;
        for (int s = 0; d != null && s < d.getSeriesCount(); s++) {
            n += d.getItemCount(s);
        }
        return n;
    }

    /** The hits a chart's points stand for: the sum of their z (0 unless the dataset is an XYZDataset). */
    static long pointHits(org.jfree.chart.JFreeChart chart) {
        long n = 0;
        if (chart.getXYPlot().getDataset() instanceof org.jfree.data.xy.XYZDataset d) {
            for (int s = 0; s < d.getSeriesCount(); s++) {
                for (int i = 0; i < d.getItemCount(s); i++) {
                    n += (long) d.getZValue(s, i);
                }
            }
        }
        return n;
    }

    /**
     * The workbench's local agent, connected: the one it starts on demand. An agent an earlier test class
     * shut down (its connection closed, nothing listening) is dropped from the model first, so the workbench
     * starts a new one as it does at start-up.
     */
    static io.hprobe.core.model.Agent connectedLocalAgent(Duration timeout) {
        io.hprobe.core.model.Agent a = io.hprobe.ui.HProbeUi.localAgent();
        waitUntil(() -> "the workbench to connect to (or start) hprobed at " + a.socket() + ": " + a.lastError(),
                timeout, () -> a.state() == io.hprobe.core.model.Agent.State.CONNECTED
                        || (a.state() == io.hprobe.core.model.Agent.State.DISCONNECTED && a.lastError() != null));
        if (a.state() == io.hprobe.core.model.Agent.State.CONNECTED) {
            return a;
        }
        io.hprobe.ui.HProbeUi.model().removeAgent(a);
        io.hprobe.core.model.Agent fresh = io.hprobe.ui.HProbeUi.localAgent();
        waitUntil(() -> "the workbench to start hprobed at " + fresh.socket() + ": " + fresh.lastError(), timeout,
                () -> fresh.state() == io.hprobe.core.model.Agent.State.CONNECTED);
        return fresh;
    }

    /**
     * Stops an agent the workbench started for the tests (no process outlives the build) and drops it from
     * the model: a later test class gets a new one from {@link #connectedLocalAgent(Duration)}.
     */
    static void shutDownAgent(io.hprobe.core.model.Agent agent, Duration timeout) throws Exception {
        try {
            waitUntil(() -> "the agent connection for shutdown; " + diagnostics(agent), timeout,
                    () -> agent.state() == io.hprobe.core.model.Agent.State.CONNECTED);
            agent.call("agent-shutdown", null).handle((r, e) -> null).get(10, java.util.concurrent.TimeUnit.SECONDS);
        } finally {
            // even when this class failed: the next class starts from a new agent, not this one
            io.hprobe.ui.HProbeUi.model().removeAgent(agent);
            // commands still under way (a symbol table loading) fail with the connection: the shutdown's
            // failures, not a later test's
            waitQuietly(Duration.ofSeconds(5), () -> org.eclipse.core.runtime.jobs.Job.getJobManager().isIdle());
            io.hprobe.ui.internal.Jobs.takeLastFailure();
        }
    }

    /** What a failed wait should say: the agent's state, its VMs, the open shells and its log's tail. */
    static String diagnostics(io.hprobe.core.model.Agent agent) {
        StringBuilder b = new StringBuilder("agent ").append(agent.state()).append(' ').append(agent.lastError())
                .append(", VMs ").append(agent.vms());
        for (org.eclipse.swt.widgets.Shell s : org.eclipse.ui.PlatformUI.getWorkbench().getDisplay().getShells()) {
            b.append(", shell '").append(s.getText()).append("' visible=").append(s.isVisible());
        }
        try {
            Path log = Path.of(System.getProperty("hprobe.agent.stateDir", "/nonexistent"), "hprobed.log");
            java.util.List<String> lines = Files.readAllLines(log);
            b.append("\nagent log:\n")
                    .append(String.join("\n", lines.subList(Math.max(0, lines.size() - 15), lines.size())));
        } catch (java.io.IOException e) {
            b.append(" (no agent log: ").append(e.getMessage()).append(')');
        }
        return b.toString();
    }

    /** Removes a test run's agent directory (/tmp/hprobe-uitest-*: its socket, its VMs' run files). */
    static void deleteTree(Path dir) throws java.io.IOException {
        if (dir == null || !Files.isDirectory(dir) || !dir.toString().startsWith("/tmp/hprobe-uitest-")) {
            return;
        }
        // the agent may still be removing its own files (socket, run dirs) as it exits:
        // a file that vanishes under the walk is retried, not an error
        for (int attempt = 0; attempt < 5 && Files.exists(dir); attempt++) {
            try (var walk = Files.walk(dir)) {
                walk.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            } catch (java.io.UncheckedIOException e) {
                try {
                    Thread.sleep(200); // then again: the next walk no longer lists it
                } catch (InterruptedException ie) {
                    Thread.currentThread().interrupt();
                    return;
                }
            }
        }
    }

    /** Fails when t is null, else returns it (for the views' nullable getters). */
    static <T> @org.eclipse.jdt.annotation.NonNull T nn(@org.eclipse.jdt.annotation.Nullable T t) {
        if (t == null) {
            throw new AssertionError("unexpected null");
        }
        return t;
    }

    /**
     * Fails with the dialog's text when the workbench shows an error dialog (the jobs open one with the
     * agent's error and what to do), instead of waiting for a timeout. Returns true to be used in conditions.
     */
    static boolean failOnErrorDialog() {
        String failure = io.hprobe.ui.internal.Jobs.lastFailure();
        if (failure != null) {
            fail("a command failed: " + failure);
        }
        for (Shell s : Display.getCurrent().getShells()) {
            if (s.isVisible() && "HProbe".equals(s.getText())) {
                StringBuilder text = new StringBuilder();
                collectText(s, text);
                s.close();
                fail("error dialog: " + text);
            }
        }
        return true;
    }

    private static void collectText(org.eclipse.swt.widgets.Composite c, StringBuilder out) {
        for (org.eclipse.swt.widgets.Control child : c.getChildren()) {
            if (child instanceof org.eclipse.swt.widgets.Label l) {
                out.append(l.getText()).append(' ');
            } else if (child instanceof org.eclipse.swt.widgets.Composite inner) {
                collectText(inner, out);
            }
        }
    }

    /** Maximizes a view, screenshots the window, and restores the layout. */
    static Path screenshotMaximized(org.eclipse.ui.IWorkbenchPage page, org.eclipse.ui.IViewPart view, Path file)
            throws IOException {
        org.eclipse.ui.IWorkbenchPartReference ref = page.getReference(view);
        page.setPartState(ref, org.eclipse.ui.IWorkbenchPage.STATE_MAXIMIZED);
        try {
            Shell shell = view.getSite().getShell();
            settle(shell.getDisplay());
            return screenshot(shell, file);
        } finally {
            page.setPartState(ref, org.eclipse.ui.IWorkbenchPage.STATE_RESTORED);
        }
    }

    /** Clicks the button whose text (without mnemonics) is label, as a user would. */
    static void pressButton(org.eclipse.swt.widgets.Composite root, String label) {
        org.eclipse.swt.widgets.Button b = findButton(root, label);
        if (b == null) {
            fail("no button " + label);
            return;
        }
        if (!b.isEnabled()) {
            fail("button " + label + " is disabled");
        }
        b.notifyListeners(SWT.Selection, new org.eclipse.swt.widgets.Event());
    }

    private static org.eclipse.swt.widgets.Button findButton(org.eclipse.swt.widgets.Composite c, String label) {
        for (org.eclipse.swt.widgets.Control child : c.getChildren()) {
            if (child instanceof org.eclipse.swt.widgets.Button b && b.getText().replace("&", "").equals(label)) {
                return b;
            }
            if (child instanceof org.eclipse.swt.widgets.Composite inner) {
                org.eclipse.swt.widgets.Button found = findButton(inner, label);
                if (found != null) {
                    return found;
                }
            }
        }
        return null;
    }

    private static boolean maximizeTried;

    /**
     * Saves what the screen shows in the shell's {@link #windowArea(Shell)} as PNG (GC.copyArea from the
     * display: the real pixels, including custom-drawn widgets such as the chart).
     */
    static Path screenshot(Shell shell, Path file) throws IOException {
        Display display = shell.getDisplay();
        if (shell.getParent() == null && !maximizeTried) {
            // the workbench window as a user on a full screen has it; only a window manager maximizes
            maximizeTried = true;
            shell.setMaximized(true);
            waitQuietly(Duration.ofSeconds(3), shell::getMaximized);
        }
        settle(display);
        Rectangle bounds = windowArea(shell);
        Image image = new Image(display, bounds.width, bounds.height);
        try {
            GC gc = new GC(display);
            try {
                gc.copyArea(image, bounds.x, bounds.y);
            } finally {
                gc.dispose();
            }
            ImageLoader loader = new ImageLoader();
            loader.data = new ImageData[]{ image.getImageData() };
            Path parent = file.toAbsolutePath().getParent();
            if (parent != null) {
                Files.createDirectories(parent);
            }
            loader.save(file.toString(), SWT.IMAGE_PNG);
        } finally {
            image.dispose();
        }
        return file;
    }
}
