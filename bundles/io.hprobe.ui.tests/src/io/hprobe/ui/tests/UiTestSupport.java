package io.hprobe.ui.tests;

import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.function.BooleanSupplier;

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

    /** Runs the event loop until the condition holds; fails after the timeout (never a fixed sleep). */
    static void waitUntil(String what, Duration timeout, BooleanSupplier condition) {
        Display display = Display.getCurrent();
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                fail("timed out after " + timeout + " waiting for " + what);
            }
            if (!display.readAndDispatch()) {
                try {
                    Thread.sleep(10); // queue empty: let X deliver the next event
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    fail("interrupted waiting for " + what);
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

    /**
     * Saves what the screen shows in the shell's {@link #windowArea(Shell)} as PNG (GC.copyArea from the
     * display: the real pixels, including custom-drawn widgets such as the chart).
     */
    static Path screenshot(Shell shell, Path file) throws IOException {
        Display display = shell.getDisplay();
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
            loader.data = new ImageData[] { image.getImageData() };
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
