package io.hprobe.rcp;

import org.eclipse.core.runtime.Platform;
import org.eclipse.ui.application.IWorkbenchConfigurer;
import org.eclipse.ui.application.IWorkbenchWindowConfigurer;
import org.eclipse.ui.application.WorkbenchAdvisor;
import org.eclipse.ui.application.WorkbenchWindowAdvisor;

import io.hprobe.ui.handlers.OpenJournalHandler;

/** Opens the HProbe perspective; the layout is not restored, so every start shows the same arrangement. */
public class HProbeWorkbenchAdvisor extends WorkbenchAdvisor {

    @Override
    public void initialize(IWorkbenchConfigurer configurer) {
        // a saved layout would hide views that later versions add to the perspective
        configurer.setSaveAndRestore(false);
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
