package io.hprobe.rcp;

import org.eclipse.core.runtime.Platform;
import org.eclipse.ui.application.IWorkbenchConfigurer;
import org.eclipse.ui.application.IWorkbenchWindowConfigurer;
import org.eclipse.ui.application.WorkbenchAdvisor;
import org.eclipse.ui.application.WorkbenchWindowAdvisor;

import io.hprobe.ui.handlers.OpenJournalHandler;

/**
 * Opens the HProbe perspective, or the layout saved at the last exit ({@link LayoutState} forgets one saved
 * for another version of the perspective).
 */
public class HProbeWorkbenchAdvisor extends WorkbenchAdvisor {

    @Override
    public void initialize(IWorkbenchConfigurer configurer) {
        configurer.setSaveAndRestore(true);
    }

    @Override
    public void postStartup() {
        // hprobe-workbench.sh run.hpj: the journals named on the command line, as Open Journal opens them
        OpenJournalHandler.openArguments(Platform.getApplicationArgs());
    }

    @Override
    public String getInitialWindowPerspectiveId() {
        return Perspective.ID;
    }

    @Override
    public WorkbenchWindowAdvisor createWorkbenchWindowAdvisor(IWorkbenchWindowConfigurer configurer) {
        return new HProbeWindowAdvisor(configurer);
    }
}
