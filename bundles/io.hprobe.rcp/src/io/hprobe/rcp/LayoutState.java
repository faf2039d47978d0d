package io.hprobe.rcp;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import org.eclipse.core.runtime.Platform;
import org.eclipse.swt.widgets.Display;
import org.eclipse.ui.PlatformUI;

import io.hprobe.ui.HProbeUi;

/**
 * The window's layout across restarts: saved on exit in the workspace (the e4 model, workbench.xmi) and
 * restored at start, as Eclipse does, unless the perspective changed since it was saved (a saved layout would
 * hide the views a new version adds): then it starts from the perspective again. Also closes the workbench
 * as File > Exit does when the process is told to end (SIGTERM: a session ending, kill), so that nothing is
 * lost then either.
 */
final class LayoutState {

    /** Bump with each change of {@link Perspective}'s views or folders. */
    static final String VERSION = "1"; //$NON-NLS-1$
    private static final long CLOSE_TIMEOUT_S = 20;
    /** The workbench has ended and saved its state (the application's start is returning). */
    private static final CountDownLatch ENDED = new CountDownLatch(1);

    private LayoutState() {
    }

    /** Before the workbench starts: forgets a layout saved for another version of the perspective. */
    static void resetIfOutdated() {
        Path ws = HProbeUi.path(Platform.getInstanceLocation());
        if (ws == null) {
            return;
        }
        Path plugins = ws.resolve(".metadata").resolve(".plugins"); //$NON-NLS-1$ //$NON-NLS-2$
        Path saved = plugins.resolve("org.eclipse.e4.workbench").resolve("workbench.xmi"); //$NON-NLS-1$ //$NON-NLS-2$
        Path version = plugins.resolve("io.hprobe.rcp").resolve("layout.version"); //$NON-NLS-1$ //$NON-NLS-2$
        try {
            String was = Files.exists(version) ? Files.readString(version, StandardCharsets.UTF_8).trim() : ""; //$NON-NLS-1$
            if (VERSION.equals(was)) {
                return;
            }
            Files.deleteIfExists(saved);
            Files.createDirectories(version.getParent());
            Files.writeString(version, VERSION + "\n", StandardCharsets.UTF_8); //$NON-NLS-1$
        } catch (IOException e) {
            // a workspace we cannot write: the workbench says so itself, and starts from the perspective
        }
    }

    /**
     * On SIGTERM the JVM runs its shutdown hooks while the UI thread still runs: this one closes the
     * workbench there and waits, at most 20 s, until it has ended and saved its layout ({@link #ended}): the
     * JVM halts when the hooks return. Returns the hook.
     */
    static Thread closeOnTerm(Display display) {
        Thread hook = new Thread(() -> {
            if (display.isDisposed() || !PlatformUI.isWorkbenchRunning()) {
                return;
            }
            try {
                display.asyncExec(() -> {
                    if (PlatformUI.isWorkbenchRunning()) {
                        PlatformUI.getWorkbench().close();
                    }
                });
                ENDED.await(CLOSE_TIMEOUT_S, TimeUnit.SECONDS);
            } catch (org.eclipse.swt.SWTException e) {
                // the display went away meanwhile: the workbench closed already
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }, "hprobe: close on SIGTERM"); //$NON-NLS-1$
        Runtime.getRuntime().addShutdownHook(hook);
        return hook;
    }

    /** When the workbench has ended: lets a SIGTERM's hook return, or removes it after a normal exit. */
    static void ended(Thread hook) {
        ENDED.countDown();
        try {
            Runtime.getRuntime().removeShutdownHook(hook);
        } catch (IllegalStateException e) {
            // shutting down: the hook is what closed the workbench
        }
    }
}
