package io.hprobe.ui.views;

import java.awt.Color;
import java.awt.Font;
import java.util.ArrayList;
import java.util.List;

import org.eclipse.jdt.annotation.Nullable;
import org.eclipse.jface.action.Action;
import org.eclipse.jface.viewers.ArrayContentProvider;
import org.eclipse.jface.viewers.ColumnLabelProvider;
import org.eclipse.jface.viewers.TableViewer;
import org.eclipse.jface.viewers.TableViewerColumn;
import org.eclipse.jface.viewers.Viewer;
import org.eclipse.jface.viewers.ViewerComparator;
import org.eclipse.osgi.util.NLS;
import org.eclipse.swt.SWT;
import org.eclipse.swt.custom.SashForm;
import org.eclipse.swt.layout.GridData;
import org.eclipse.swt.layout.GridLayout;
import org.eclipse.swt.widgets.Combo;
import org.eclipse.swt.widgets.Composite;
import org.eclipse.swt.widgets.Control;
import org.eclipse.swt.widgets.Label;
import org.eclipse.swt.widgets.Table;
import org.jfree.chart.JFreeChart;
import org.jfree.chart.axis.CategoryAxis;
import org.jfree.chart.axis.CategoryLabelPositions;
import org.jfree.chart.axis.NumberAxis;
import org.jfree.chart.plot.CategoryPlot;
import org.jfree.chart.renderer.category.BarRenderer;
import org.jfree.chart.renderer.category.StandardBarPainter;
import org.jfree.chart.swt.ChartComposite;
import org.jfree.data.category.DefaultCategoryDataset;

import io.hprobe.core.model.AggTable;
import io.hprobe.core.model.Agent;
import io.hprobe.core.model.Vm;
import io.hprobe.ui.Messages;
import io.hprobe.ui.internal.ProbeCombo;

/**
 * A probe's aggregation (probe add --agg), read from the agent each second: a row per key, largest first,
 * with a bar for its share of the largest; a click on a column's header sorts by it (again: the other way);
 * for hist, the selected row's buckets as a bar chart. The table is the agent's; this view only reads it.
 */
public class AggregationView extends HProbeView {

    public static final String ID = "io.hprobe.ui.aggregation"; //$NON-NLS-1$
    private static final int POLL_MS = 1000;
    private static final int BAR_WIDTH = 160;

    private @Nullable ProbeCombo probes;
    private @Nullable Label status;
    private @Nullable TableViewer table;
    private @Nullable DefaultCategoryDataset buckets;
    private @Nullable AggTable shown;
    /** The largest |figure| of the rows shown: the bars' full length. */
    private double largest;
    private List<String> columnsFor = List.of();
    /** The column sorted by (-1: the agent's order, largest first) and its direction. */
    private int sortColumn = -1;
    private boolean sortUp;
    private boolean reading;
    private boolean clearNext;

    @Override
    protected Control createContents(Composite parent) {
        Composite top = new Composite(parent, SWT.NONE);
        top.setLayout(new GridLayout(3, false));
        new Label(top, SWT.NONE).setText(Messages.Aggregation_probe);
        ProbeCombo pc = new ProbeCombo(top);
        Combo c = pc.combo();
        c.setLayoutData(new GridData(SWT.FILL, SWT.CENTER, true, false));
        c.addListener(SWT.Selection, e -> {
            shown = null;
            read();
        });
        probes = pc;
        Label s = new Label(top, SWT.NONE);
        s.setLayoutData(new GridData(SWT.FILL, SWT.CENTER, true, false));
        status = s;
        SashForm sash = new SashForm(top, SWT.VERTICAL);
        sash.setLayoutData(new GridData(SWT.FILL, SWT.FILL, true, true, 3, 1));
        TableViewer t = new TableViewer(sash, SWT.BORDER | SWT.FULL_SELECTION | SWT.SINGLE);
        t.getTable().setHeaderVisible(true);
        t.getTable().setLinesVisible(true);
        t.setContentProvider(ArrayContentProvider.getInstance());
        t.addSelectionChangedListener(e -> showBuckets());
        t.getTable().addListener(SWT.PaintItem, e -> paintBar(t.getTable(), e));
        table = t;
        DefaultCategoryDataset d = new DefaultCategoryDataset();
        buckets = d;
        CategoryAxis x = new CategoryAxis(Messages.Aggregation_bucket);
        x.setCategoryLabelPositions(CategoryLabelPositions.UP_45);
        BarRenderer bars = new BarRenderer();
        bars.setBarPainter(new StandardBarPainter()); // flat: no gradient, no shadow
        bars.setShadowVisible(false);
        bars.setMaximumBarWidth(0.08); // one bucket stays a bar, not the whole plot
        bars.setSeriesPaint(0, new Color(0x3b, 0x7d, 0xd8));
        CategoryPlot plot = new CategoryPlot(d, x, new NumberAxis(Messages.Aggregation_count), bars);
        plot.setBackgroundPaint(Color.WHITE);
        plot.setNoDataMessage(Messages.Aggregation_noHist);
        JFreeChart chart = new JFreeChart(null, new Font(Font.SANS_SERIF, Font.PLAIN, 12), plot, false);
        chart.setBackgroundPaint(Color.WHITE);
        new ChartComposite(sash, SWT.NONE, chart, ChartComposite.DEFAULT_WIDTH, ChartComposite.DEFAULT_HEIGHT, 100, 80,
                4000, 3000, true, false, false, false, true, true);
        sash.setWeights(60, 40);
        Action clear = new Action(Messages.Aggregation_clear) {

            @Override
            public void run() {
                clearNext = true;
                read();
            }
        };
        getViewSite().getActionBars().getToolBarManager().add(clear);
        pollEvery(top, POLL_MS, this::read); // the agent pushes no change per hit
        return top;
    }

    /** The VM's aggregating probes in the combo; the selection kept by probe id. */
    @Override
    protected void refresh() {
        ProbeCombo c = probes;
        Vm vm = vm();
        if (c == null || !c.show(vm == null ? List.of() : vm.probes(), p -> p.agg() != null,
                p -> NLS.bind(Messages.Aggregation_item, new Object[]{ p.id(), p.label(), p.agg() }))) {
            return;
        }
        if (c.isEmpty()) {
            setStatus(Messages.Aggregation_none);
        }
        read();
    }

    /** Shows this probe's aggregation (the UI tests' way in). */
    public void select(int probe) {
        refresh();
        ProbeCombo c = probes;
        if (c != null && c.select(probe)) {
            shown = null;
            read();
        }
    }

    /** The rows shown now (UI thread). */
    public @Nullable AggTable table() {
        return shown;
    }

    private @Nullable Integer selectedProbe() {
        ProbeCombo c = probes;
        return c == null ? null : c.selected();
    }

    private void read() {
        Vm vm = vm();
        Agent a = vm == null ? null : vm.agent();
        Integer id = selectedProbe();
        ProbeCombo pc = probes;
        Combo c = pc == null ? null : pc.combo();
        if (vm == null || a == null || id == null || reading || c == null) {
            return;
        }
        reading = true;
        boolean clear = clearNext;
        clearNext = false;
        a.readAggregation(vm, id, clear).whenComplete((t, e) -> c.getDisplay().asyncExec(() -> {
            reading = false;
            if (c.isDisposed() || !id.equals(selectedProbe())) {
                return;
            }
            if (e != null) {
                setStatus(NLS.bind(Messages.Aggregation_failed,
                        e.getCause() != null ? e.getCause().getMessage() : e.getMessage()));
            } else {
                show(t);
            }
        }));
    }

    private void show(AggTable t) {
        TableViewer v = table;
        if (v == null || v.getTable().isDisposed()) {
            return;
        }
        List<String> cols = new ArrayList<>(t.by());
        cols.add(t.fn());
        if (!cols.equals(columnsFor)) {
            columns(v, t);
            columnsFor = cols;
            sortColumn = -1;
            v.setComparator(null);
            for (int i = 0; i < v.getTable().getColumnCount(); i++) {
                int column = i;
                v.getTable().getColumn(i).addListener(SWT.Selection, e -> sortBy(v, column));
            }
        }
        shown = t;
        largest = t.rows().stream().mapToDouble(r -> Math.abs(r.figure(t.fn()))).max().orElse(0);
        v.setInput(t.rows());
        setStatus(NLS.bind(Messages.Aggregation_status, new Object[]{ t.agg(), t.hits(), t.keys(),
                t.otherHits() > 0 ? NLS.bind(Messages.Aggregation_other, t.otherHits(), t.maxKeys()) : "" })); //$NON-NLS-1$
        showBuckets();
    }

    /** One column per key, the count, the function's figure (not for count and hist), and the bar (paintBar). */
    private static void columns(TableViewer v, AggTable t) {
        Table table = v.getTable();
        while (table.getColumnCount() > 0) {
            table.getColumn(0).dispose();
        }
        for (int k = 0; k < t.by().size(); k++) {
            int key = k;
            col(v, t.by().get(k), 120, r -> key < r.key().size() ? r.key().get(key) : ""); //$NON-NLS-1$
        }
        col(v, Messages.Aggregation_count, 90, r -> Long.toString(r.count()));
        String fn = t.fn();
        if (!"count".equals(fn) && !"hist".equals(fn)) { //$NON-NLS-1$ //$NON-NLS-2$
            col(v, fn, 110, r -> "avg".equals(fn) ? String.format("%.2f", r.avg()) : String.valueOf(switch (fn) { //$NON-NLS-1$ //$NON-NLS-2$
                case "sum" -> r.sum(); //$NON-NLS-1$
                case "min" -> r.min(); //$NON-NLS-1$
                default -> r.max();
            }));
        }
        col(v, "", BAR_WIDTH, r -> ""); //$NON-NLS-1$ //$NON-NLS-2$
    }

    private interface Text {

        String of(AggTable.Row r);
    }

    private static void col(TableViewer v, String title, int width, Text text) {
        TableViewerColumn c = new TableViewerColumn(v, SWT.LEFT);
        c.getColumn().setText(title);
        c.getColumn().setWidth(width);
        c.setLabelProvider(ColumnLabelProvider.createTextProvider(o -> o instanceof AggTable.Row r ? text.of(r) : "")); //$NON-NLS-1$
    }

    /** A key column sorts up first, a figure down (largest first); the same header again turns it. */
    private void sortBy(TableViewer v, int column) {
        AggTable t = shown;
        if (t == null) {
            return;
        }
        sortUp = column == sortColumn ? !sortUp : column < t.by().size();
        sortColumn = column;
        Table table = v.getTable();
        table.setSortColumn(table.getColumn(column));
        table.setSortDirection(sortUp ? SWT.UP : SWT.DOWN);
        v.setComparator(new ViewerComparator() {

            @Override
            public int compare(@Nullable Viewer viewer, @Nullable Object a, @Nullable Object b) {
                AggTable now = shown;
                if (now == null || !(a instanceof AggTable.Row x) || !(b instanceof AggTable.Row y)) {
                    return 0;
                }
                int c = now.columnOrder(sortColumn).compare(x, y);
                return sortUp ? c : -c;
            }
        });
    }

    /** The last column: a bar as long as the row's figure against the largest one's. */
    private void paintBar(Table t, org.eclipse.swt.widgets.Event e) {
        AggTable a = shown;
        if (a == null || e.index != t.getColumnCount() - 1 || !(e.item.getData() instanceof AggTable.Row r)) {
            return;
        }
        int w = largest > 0
                ? (int) Math.round((t.getColumn(e.index).getWidth() - 8) * Math.abs(r.figure(a.fn())) / largest)
                : 0;
        e.gc.setBackground(t.getDisplay().getSystemColor(SWT.COLOR_LIST_SELECTION));
        e.gc.fillRectangle(e.x + 4, e.y + 3, Math.max(w, 1), e.height - 6);
    }

    /** The selected hist row's buckets (the first row when none is selected). */
    private void showBuckets() {
        DefaultCategoryDataset d = buckets;
        TableViewer v = table;
        AggTable a = shown;
        if (d == null || v == null || a == null) {
            return;
        }
        AggTable.Row row = v.getStructuredSelection().getFirstElement() instanceof AggTable.Row r
                ? r
                : a.rows().isEmpty() ? null : a.rows().get(0);
        d.clear();
        if (row != null) {
            for (AggTable.Bucket b : row.hist()) {
                d.addValue(b.count(), Messages.Aggregation_count, b.label());
            }
        }
    }

    @Override
    public void setFocus() {
        ProbeCombo c = probes;
        if (c != null) {
            c.combo().setFocus();
        }
    }

    private void setStatus(String text) {
        Label s = status;
        if (s != null && !s.isDisposed()) {
            s.setText(text);
            s.getParent().layout();
        }
    }
}
