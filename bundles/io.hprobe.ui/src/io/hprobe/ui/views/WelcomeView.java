package io.hprobe.ui.views;

import org.eclipse.core.commands.common.CommandException;
import org.eclipse.jdt.annotation.Nullable;
import org.eclipse.jface.resource.JFaceResources;
import org.eclipse.swt.SWT;
import org.eclipse.swt.layout.GridData;
import org.eclipse.swt.layout.GridLayout;
import org.eclipse.swt.widgets.Composite;
import org.eclipse.swt.widgets.Label;
import org.eclipse.swt.widgets.Link;
import org.eclipse.ui.IViewPart;
import org.eclipse.ui.PartInitException;
import org.eclipse.ui.PlatformUI;
import org.eclipse.ui.handlers.IHandlerService;
import org.eclipse.ui.part.ViewPart;

import io.hprobe.ui.Activator;
import io.hprobe.ui.Messages;
import io.hprobe.ui.preferences.Prefs;

/**
 * The first start's page (Help > Welcome afterwards): the three ways in, each a link to its command, as
 * Eclipse's welcome offers its first steps.
 */
public class WelcomeView extends ViewPart {

    public static final String ID = "io.hprobe.ui.welcome"; //$NON-NLS-1$

    /** Command id and its link's text and explanation. */
    private static final String[][] STEPS = { { "io.hprobe.ui.launchLab", Messages.Welcome_launch, //$NON-NLS-1$
            Messages.Welcome_launchWhat },
            { "io.hprobe.ui.attach", Messages.Welcome_attach, Messages.Welcome_attachWhat }, //$NON-NLS-1$
            { "io.hprobe.ui.connect", Messages.Welcome_connect, Messages.Welcome_connectWhat }, //$NON-NLS-1$
            { "io.hprobe.ui.openJournal", Messages.Welcome_journal, Messages.Welcome_journalWhat } }; //$NON-NLS-1$

    private @Nullable Composite top;

    @Override
    public void createPartControl(Composite parent) {
        Composite c = new Composite(parent, SWT.NONE);
        c.setLayout(new GridLayout(1, false));
        Label title = new Label(c, SWT.NONE);
        title.setText(Messages.Welcome_title);
        title.setFont(JFaceResources.getHeaderFont());
        Label intro = new Label(c, SWT.WRAP);
        intro.setText(Messages.Welcome_intro);
        intro.setLayoutData(new GridData(SWT.FILL, SWT.TOP, true, false));
        for (String[] s : STEPS) {
            Link l = new Link(c, SWT.NONE);
            l.setText("<a>" + s[1] + "</a>"); //$NON-NLS-1$ //$NON-NLS-2$
            l.setData(s[0]);
            l.setFont(JFaceResources.getBannerFont());
            GridData d = new GridData(SWT.FILL, SWT.TOP, true, false);
            d.verticalIndent = 12;
            l.setLayoutData(d);
            l.addListener(SWT.Selection, e -> run(s[0]));
            Label what = new Label(c, SWT.WRAP);
            what.setText(s[2]);
            GridData w = new GridData(SWT.FILL, SWT.TOP, true, false);
            w.horizontalIndent = 16;
            what.setLayoutData(w);
        }
        top = c;
    }

    /** Runs a step's command, as its menu item does. */
    public void run(String commandId) {
        try {
            getSite().getService(IHandlerService.class).executeCommand(commandId, null);
        } catch (CommandException e) {
            Activator.getDefault().getLog().error(commandId, e);
        }
    }

    /** Shows the page the first time the workbench starts (Prefs.WELCOME_SHOWN), not again. */
    public static void showOnFirstStart() {
        if (Prefs.store().getBoolean(Prefs.WELCOME_SHOWN)) {
            return;
        }
        Prefs.store().setValue(Prefs.WELCOME_SHOWN, true);
        try {
            IViewPart v = PlatformUI.getWorkbench().getActiveWorkbenchWindow().getActivePage().showView(ID);
            v.setFocus();
        } catch (PartInitException e) {
            Activator.getDefault().getLog().error(ID, e);
        }
    }

    @Override
    public void setFocus() {
        Composite c = top;
        if (c != null) {
            c.setFocus();
        }
    }
}
