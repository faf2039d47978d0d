package io.hprobe.ui.internal;

import java.util.ArrayList;
import java.util.List;

import org.eclipse.jdt.annotation.Nullable;
import org.eclipse.swt.widgets.Composite;
import org.eclipse.swt.widgets.Control;
import org.eclipse.swt.widgets.Item;
import org.eclipse.swt.widgets.Table;
import org.eclipse.swt.widgets.TableColumn;
import org.eclipse.swt.widgets.Tree;
import org.eclipse.swt.widgets.TreeColumn;
import org.eclipse.ui.IMemento;

/**
 * The column widths of a view's tables and trees, kept in the view's memento (saved with the workbench's
 * layout): "columns.N" = the widths of the Nth table or tree, in widget order, comma-separated. A view whose
 * columns changed since (another count) keeps its own widths.
 */
public final class ColumnWidths {

    private static final String KEY = "columns."; //$NON-NLS-1$
    /** Narrower than this is a column the user cannot find again to widen. */
    private static final int MIN = 8;
    private static final int MAX = 4000;

    private ColumnWidths() {
    }

    public static void save(Control top, IMemento memento) {
        List<Control> grids = grids(top);
        for (int i = 0; i < grids.size(); i++) {
            StringBuilder b = new StringBuilder();
            for (Item c : columns(grids.get(i))) {
                b.append(b.length() == 0 ? "" : ",").append(width(c)); //$NON-NLS-1$ //$NON-NLS-2$
            }
            memento.putString(KEY + i, b.toString());
        }
    }

    public static void restore(Control top, @Nullable IMemento memento) {
        if (memento == null) {
            return;
        }
        List<Control> grids = grids(top);
        for (int i = 0; i < grids.size(); i++) {
            String saved = memento.getString(KEY + i);
            Item[] cols = columns(grids.get(i));
            String[] widths = saved == null ? new String[0] : saved.split(","); //$NON-NLS-1$
            if (widths.length != cols.length) {
                continue;
            }
            for (int c = 0; c < cols.length; c++) {
                try {
                    int w = Integer.parseInt(widths[c].trim());
                    if (w >= MIN && w <= MAX) {
                        setWidth(cols[c], w);
                    }
                } catch (NumberFormatException e) {
                    // a hand-edited workspace: that column keeps its width
                }
            }
        }
    }

    private static List<Control> grids(Control top) {
        List<Control> out = new ArrayList<>();
        collect(top, out);
        return out;
    }

    private static void collect(Control c, List<Control> out) {
        if (c instanceof Table || c instanceof Tree) {
            out.add(c);
        } else if (c instanceof Composite comp) {
            for (Control child : comp.getChildren()) {
                collect(child, out);
            }
        }
    }

    private static Item[] columns(Control grid) {
        return grid instanceof Table t ? t.getColumns() : ((Tree) grid).getColumns();
    }

    private static int width(Item c) {
        return c instanceof TableColumn t ? t.getWidth() : ((TreeColumn) c).getWidth();
    }

    private static void setWidth(Item c, int w) {
        if (c instanceof TableColumn t) {
            t.setWidth(w);
        } else {
            ((TreeColumn) c).setWidth(w);
        }
    }
}
