package io.hprobe.rcp;

import org.eclipse.jface.action.GroupMarker;
import org.eclipse.jface.action.IMenuManager;
import org.eclipse.jface.action.MenuManager;
import org.eclipse.jface.action.Separator;
import org.eclipse.ui.IWorkbenchActionConstants;
import org.eclipse.ui.IWorkbenchWindow;
import org.eclipse.ui.actions.ActionFactory;
import org.eclipse.ui.actions.ActionFactory.IWorkbenchAction;
import org.eclipse.ui.actions.ContributionItemFactory;
import org.eclipse.ui.application.ActionBarAdvisor;
import org.eclipse.ui.application.IActionBarConfigurer;

/**
 * File, Edit (undo/redo of probe changes), the menus io.hprobe.ui contributes (VM), and Window. The
 * "additions" groups are where plugin.xml menu contributions go.
 */
class HProbeActionBarAdvisor extends ActionBarAdvisor {

    HProbeActionBarAdvisor(IActionBarConfigurer configurer) {
        super(configurer);
    }

    @Override
    protected void fillMenuBar(IMenuManager menuBar) {
        IWorkbenchWindow window = getActionBarConfigurer().getWindowConfigurer().getWindow();
        IWorkbenchAction quit = ActionFactory.QUIT.create(window);
        IWorkbenchAction resetPerspective = ActionFactory.RESET_PERSPECTIVE.create(window);
        IWorkbenchAction undo = ActionFactory.UNDO.create(window);
        IWorkbenchAction redo = ActionFactory.REDO.create(window);
        IWorkbenchAction copy = ActionFactory.COPY.create(window);
        IWorkbenchAction delete = ActionFactory.DELETE.create(window);
        IWorkbenchAction preferences = ActionFactory.PREFERENCES.create(window);
        IWorkbenchAction about = ActionFactory.ABOUT.create(window);
        register(quit);
        register(resetPerspective);
        register(undo);
        register(redo);
        register(copy);
        register(delete);
        register(preferences);
        register(about);

        MenuManager file = new MenuManager(Messages.Menu_file, IWorkbenchActionConstants.M_FILE);
        file.add(new GroupMarker(IWorkbenchActionConstants.MB_ADDITIONS));
        file.add(new Separator());
        file.add(quit);
        menuBar.add(file);

        MenuManager edit = new MenuManager(Messages.Menu_edit, IWorkbenchActionConstants.M_EDIT);
        edit.add(undo);
        edit.add(redo);
        edit.add(new Separator());
        edit.add(copy);
        edit.add(delete);
        menuBar.add(edit);

        menuBar.add(new GroupMarker(IWorkbenchActionConstants.MB_ADDITIONS));

        MenuManager showView = new MenuManager(Messages.Menu_showView);
        showView.add(ContributionItemFactory.VIEWS_SHORTLIST.create(window));
        MenuManager windowMenu = new MenuManager(Messages.Menu_window, IWorkbenchActionConstants.M_WINDOW);
        windowMenu.add(showView);
        windowMenu.add(resetPerspective);
        windowMenu.add(new Separator());
        windowMenu.add(preferences);
        menuBar.add(windowMenu);

        MenuManager help = new MenuManager(Messages.Menu_help, IWorkbenchActionConstants.M_HELP);
        help.add(new GroupMarker(IWorkbenchActionConstants.MB_ADDITIONS));
        help.add(new Separator());
        help.add(about);
        menuBar.add(help);
    }
}
