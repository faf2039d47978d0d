package io.hprobe.ui.tests;

import static org.junit.jupiter.api.Assertions.fail;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.function.Predicate;

import org.eclipse.e4.ui.model.application.ui.basic.MPart;
import org.eclipse.jface.action.ActionContributionItem;
import org.eclipse.jface.action.IAction;
import org.eclipse.jface.action.IContributionItem;
import org.eclipse.swt.SWT;
import org.eclipse.swt.widgets.Composite;
import org.eclipse.swt.widgets.Control;
import org.eclipse.swt.widgets.Event;
import org.eclipse.swt.widgets.Menu;
import org.eclipse.swt.widgets.MenuItem;
import org.eclipse.swt.widgets.Table;
import org.eclipse.swt.widgets.TableColumn;
import org.eclipse.swt.widgets.TableItem;
import org.eclipse.swt.widgets.Tree;
import org.eclipse.swt.widgets.TreeItem;
import org.eclipse.ui.IViewPart;

/**
 * A view's widgets as a user meets them: found in the view's SWT tree by what they show (a column title, a
 * hint, a label) and its toolbar by the action's text, and driven with the events a click, a double-click
 * or Enter sends. The views keep no API for tests; JFace viewers see these events as they see the user's.
 */
final class Widgets {

    private Widgets() {
    }

    /** The composite the workbench gave the view (its part's widget). */
    static Composite root(IViewPart view) {
        MPart part = view.getSite().getService(MPart.class);
        if (part != null && part.getWidget() instanceof Composite c) {
            return c;
        }
        fail("no widget for the view " + view.getSite().getId());
        throw new AssertionError();
    }

    /** Every control of a type under root, depth first. */
    static <T extends Control> List<T> all(Composite root, Class<T> type) {
        List<T> out = new ArrayList<>();
        collect(root, type, out);
        return out;
    }

    private static <T extends Control> void collect(Composite c, Class<T> type, List<T> out) {
        for (Control child : c.getChildren()) {
            if (type.isInstance(child)) {
                out.add(type.cast(child));
            }
            if (child instanceof Composite inner) {
                collect(inner, type, out);
            }
        }
    }

    /** The one control of a type in the view that matches; fails naming what was looked for. */
    static <T extends Control> T find(IViewPart view, Class<T> type, Predicate<T> which, String what) {
        List<T> found = all(root(view), type).stream().filter(which).toList();
        if (found.size() != 1) {
            fail(found.size() + " " + type.getSimpleName() + " controls are " + what + " in " + view.getSite().getId());
        }
        return found.get(0);
    }

    /** The view's only control of a type. */
    static <T extends Control> T find(IViewPart view, Class<T> type) {
        return find(view, type, c -> true, "there");
    }

    /** The table of the view with a column titled header. */
    static Table table(IViewPart view, String header) {
        return find(view, Table.class, t -> hasColumn(t, header), "with a column " + header);
    }

    private static boolean hasColumn(Table t, String header) {
        for (TableColumn c : t.getColumns()) {
            if (header.equals(c.getText())) {
                return true;
            }
        }
        return false;
    }

    /** The action of the view's toolbar whose text is text. */
    static IAction toolbarAction(IViewPart view, String text) {
        for (IContributionItem item : view.getViewSite().getActionBars().getToolBarManager().getItems()) {
            if (item instanceof ActionContributionItem a && text.equals(a.getAction().getText())) {
                return a.getAction();
            }
        }
        fail("no toolbar action '" + text + "' in " + view.getSite().getId());
        throw new AssertionError();
    }

    /** Selects row as a click does (a virtual table fills the row first). */
    static void click(Table t, int row) {
        t.setSelection(row);
        Event e = new Event();
        e.item = t.getItem(row);
        t.notifyListeners(SWT.Selection, e);
    }

    /** Selects row and opens it, as a double-click does. */
    static void doubleClick(Table t, int row) {
        click(t, row);
        Event e = new Event();
        e.item = t.getItem(row);
        t.notifyListeners(SWT.DefaultSelection, e);
    }

    /** Ticks or clears the check box of row, as a click on the box does. */
    static void setChecked(Table t, int row, boolean checked) {
        TableItem item = t.getItem(row);
        item.setChecked(checked);
        Event e = new Event();
        e.item = item;
        e.detail = SWT.CHECK;
        t.notifyListeners(SWT.Selection, e);
    }

    /** The row that shows element (a JFace viewer's item data), or -1. */
    static int rowOf(Table t, Object element) {
        for (int i = 0; i < t.getItemCount(); i++) {
            if (Objects.equals(t.getItem(i).getData(), element)) {
                return i;
            }
        }
        return -1;
    }

    /** The first row whose column shows text, or -1. */
    static int rowWith(Table t, int column, String text) {
        for (int i = 0; i < t.getItemCount(); i++) {
            if (text.equals(t.getItem(i).getText(column))) {
                return i;
            }
        }
        return -1;
    }

    /** The item that shows element in a tree (a JFace viewer's item data), or null. */
    static TreeItem itemOf(Tree t, Object element) {
        for (TreeItem i : t.getItems()) {
            TreeItem found = itemOf(i, element);
            if (found != null) {
                return found;
            }
        }
        return null;
    }

    private static TreeItem itemOf(TreeItem item, Object element) {
        if (Objects.equals(item.getData(), element)) {
            return item;
        }
        for (TreeItem i : item.getItems()) {
            TreeItem found = itemOf(i, element);
            if (found != null) {
                return found;
            }
        }
        return null;
    }

    /** Opens every node, as clicks on each expander do (a JFace tree creates the children then). */
    static void expandAll(Tree t) {
        for (TreeItem i : t.getItems()) {
            expand(t, i);
        }
    }

    private static void expand(Tree t, TreeItem item) {
        if (!item.getExpanded()) {
            Event e = new Event();
            e.item = item;
            t.notifyListeners(SWT.Expand, e);
            item.setExpanded(true);
        }
        for (TreeItem i : item.getItems()) {
            expand(t, i);
        }
    }

    /** The index of the tree's column titled header, or -1. */
    static int column(Tree t, String header) {
        for (int i = 0; i < t.getColumnCount(); i++) {
            if (header.equals(t.getColumn(i).getText())) {
                return i;
            }
        }
        return -1;
    }

    /** The item of the tree whose first column shows text, under an item whose first column shows parent. */
    static TreeItem itemWith(Tree t, String parent, String text) {
        List<TreeItem> all = new ArrayList<>();
        for (TreeItem i : t.getItems()) {
            collect(i, all);
        }
        for (TreeItem i : all) {
            TreeItem p = i.getParentItem();
            if (text.equals(i.getText(0)) && p != null && parent.equals(p.getText(0))) {
                return i;
            }
        }
        return null;
    }

    private static void collect(TreeItem item, List<TreeItem> out) {
        out.add(item);
        for (TreeItem i : item.getItems()) {
            collect(i, out);
        }
    }

    /** Folds an item, as a click on its expander does. */
    static void collapse(Tree t, TreeItem item) {
        Event e = new Event();
        e.item = item;
        t.notifyListeners(SWT.Collapse, e);
        item.setExpanded(false);
    }

    /** Selects item as a click does. */
    static void click(Tree t, TreeItem item) {
        t.setSelection(item);
        Event e = new Event();
        e.item = item;
        t.notifyListeners(SWT.Selection, e);
    }

    /** Selects item and opens it, as a double-click does. */
    static void doubleClick(Tree t, TreeItem item) {
        click(t, item);
        Event e = new Event();
        e.item = item;
        t.notifyListeners(SWT.DefaultSelection, e);
    }

    /**
     * Opens the control's context menu (its manager fills it for the selection, as a right-click does) and
     * chooses the item whose text (without mnemonics) is text; fails when it is missing or disabled.
     */
    static void contextMenu(Control c, String text) {
        Menu menu = c.getMenu();
        if (menu == null) {
            fail("no context menu on " + c);
            return;
        }
        menu.notifyListeners(SWT.Show, new Event());
        try {
            List<String> seen = new ArrayList<>();
            for (MenuItem i : menu.getItems()) {
                String label = i.getText().replace("&", "");
                seen.add(label);
                if (label.equals(text)) {
                    if (!i.isEnabled()) {
                        fail("context menu item '" + text + "' is disabled");
                    }
                    i.notifyListeners(SWT.Selection, new Event());
                    return;
                }
            }
            fail("no context menu item '" + text + "' in " + seen);
        } finally {
            menu.notifyListeners(SWT.Hide, new Event());
        }
    }

    /** Sends Enter to a control (the DefaultSelection a text field or table gets). */
    static void pressEnter(Control c) {
        c.notifyListeners(SWT.DefaultSelection, new Event());
    }
}
