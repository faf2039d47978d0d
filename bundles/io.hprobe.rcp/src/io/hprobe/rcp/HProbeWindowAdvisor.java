package io.hprobe.rcp;

import org.eclipse.swt.graphics.Point;
import org.eclipse.ui.application.ActionBarAdvisor;
import org.eclipse.ui.application.IActionBarConfigurer;
import org.eclipse.ui.application.IWorkbenchWindowConfigurer;
import org.eclipse.ui.application.WorkbenchWindowAdvisor;

import io.hprobe.ui.views.FileDrop;
import io.hprobe.ui.views.WelcomeView;

/** Size and bars of the HProbe Workbench window. */
class HProbeWindowAdvisor extends WorkbenchWindowAdvisor {

    HProbeWindowAdvisor(IWorkbenchWindowConfigurer configurer) {
        super(configurer);
    }

    @Override
    public ActionBarAdvisor createActionBarAdvisor(IActionBarConfigurer configurer) {
        return new HProbeActionBarAdvisor(configurer);
    }

    @Override
    public void preWindowOpen() {
        IWorkbenchWindowConfigurer configurer = getWindowConfigurer();
        configurer.setInitialSize(new Point(1280, 800));
        configurer.setShowCoolBar(false);
        configurer.setShowStatusLine(true);
        // running jobs (launch, attach, symbols, export) where Eclipse users look: the status line's indicator
        configurer.setShowProgressIndicator(true);
        // no setTitle: the workbench titles the window with the product name, product.name in plugin.properties
    }

    @Override
    public void postWindowOpen() {
        // a journal dropped anywhere on the window opens, as File > Open Journal does
        FileDrop.install(getWindowConfigurer().getWindow().getShell());
        WelcomeView.showOnFirstStart();
    }
}
