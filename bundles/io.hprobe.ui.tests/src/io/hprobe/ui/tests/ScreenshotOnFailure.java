package io.hprobe.ui.tests;

import java.io.IOException;
import java.nio.file.Path;

import org.eclipse.swt.widgets.Display;
import org.eclipse.swt.widgets.Shell;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.TestWatcher;

/** A failed UI test leaves a screenshot of the workbench in ${hprobe.screenshots} (target/screenshots). */
public class ScreenshotOnFailure implements TestWatcher {

    @Override
    public void testFailed(ExtensionContext context, Throwable cause) {
        Display display = Display.getCurrent();
        if (display == null) {
            return; // not on the UI thread: nothing can be captured safely
        }
        Path dir = Path.of(System.getProperty("hprobe.screenshots", "target/screenshots"));
        String name = context.getRequiredTestClass().getSimpleName() + "."
                + context.getDisplayName().replaceAll("[^A-Za-z0-9._-]", "_") + ".png";
        for (Shell shell : display.getShells()) {
            if (shell.isVisible()) {
                try {
                    Path file = UiTestSupport.screenshot(shell, dir.resolve(name));
                    System.err.println("screenshot of the failed test: " + file);
                } catch (IOException | RuntimeException e) {
                    cause.addSuppressed(e);
                }
                return;
            }
        }
    }
}
