package io.hprobe.ui.views;

import java.util.HashSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;

import org.eclipse.core.runtime.Status;
import org.eclipse.core.runtime.jobs.Job;
import org.eclipse.jdt.annotation.Nullable;
import org.eclipse.jface.action.Action;
import org.eclipse.jface.action.IAction;
import org.eclipse.jface.resource.JFaceResources;
import org.eclipse.osgi.util.NLS;
import org.eclipse.swt.SWT;
import org.eclipse.swt.dnd.Clipboard;
import org.eclipse.swt.dnd.TextTransfer;
import org.eclipse.swt.dnd.Transfer;
import org.eclipse.swt.layout.GridData;
import org.eclipse.swt.layout.GridLayout;
import org.eclipse.swt.widgets.Button;
import org.eclipse.swt.widgets.Combo;
import org.eclipse.swt.widgets.Composite;
import org.eclipse.swt.widgets.Control;
import org.eclipse.swt.widgets.Label;
import org.eclipse.swt.widgets.Table;
import org.eclipse.swt.widgets.TableColumn;
import org.eclipse.swt.widgets.TableItem;
import org.eclipse.swt.widgets.Text;
import org.eclipse.ui.IMemento;
import org.eclipse.ui.IViewSite;
import org.eclipse.ui.PartInitException;
import org.eclipse.ui.actions.ActionFactory;

import io.hprobe.core.model.Hit;
import io.hprobe.core.model.HitFilter;
import io.hprobe.core.model.ModelChange;
import io.hprobe.core.model.Probe;
import io.hprobe.core.model.Vm;
import io.hprobe.ui.Messages;
import io.hprobe.ui.UiContext;
import io.hprobe.ui.internal.Format;
import io.hprobe.ui.internal.HitColumns;
import io.hprobe.ui.internal.HitSelection;
import io.hprobe.ui.internal.SelectionProvider;

/**
 * Every hit of the selected VM in a virtual table: only the visible rows are materialised, so millions of
 * hits scroll like a hundred. The columns are libhprobe's hit fields that the store holds (the CLI and the
 * exports follow the same table); the Properties view adds what only a hit's journal record has. Filters by probe, process (pid or comm) and time range select the matching
 * indexes in a job; without a filter the rows are the store itself.
 */
public class HitsView extends HProbeView {

    private static final String KEY_PROCESS = "filter.process"; //$NON-NLS-1$
    private static final String KEY_PROBE = "filter.probe"; //$NON-NLS-1$
    private static final String KEY_FOLLOW = "follow"; //$NON-NLS-1$

    public static final String ID = "io.hprobe.ui.hits"; //$NON-NLS-1$

    private @Nullable Table table;
    private @Nullable Combo probe;
    private @Nullable Text process;
    private @Nullable Text from;
    private @Nullable Text to;
    private List<Probe> probeChoices = List.of();
    /** Matching store indexes under a filter; null = no filter (row i is store index first + i). */
    private long @Nullable [] rows;
    private HitFilter filter = HitFilter.ALL;
    private long rowsUpTo;
    /** A selection's result is on its way (UI thread): rows and rowsUpTo are not current yet. */
    private boolean selecting;
    private @Nullable Vm shownVm;
    /** The VM's {@link Vm#addressNamesAnswered()} when the rows were last drawn. */
    private int namesShown;
    private boolean follow = true;
    /** The process field as the user left it at the last exit (time ranges belong to one journal: not kept). */
    private String savedProcess = ""; //$NON-NLS-1$
    /** The probe chosen at the last exit, selected when a VM has it; null once chosen or replaced. */
    private @Nullable String pendingProbe;
    private @Nullable Job filterJob;
    private final SelectionProvider selection = new SelectionProvider();
    /** The table's columns; empty until the hit fields are known (libhprobe, else the agent's table). */
    private List<HitColumns.Column> columns = List.of();

    @Override
    public void init(IViewSite site, @Nullable IMemento m) throws PartInitException {
        super.init(site, m);
        if (m != null) {
            savedProcess = Objects.requireNonNullElse(m.getString(KEY_PROCESS), ""); //$NON-NLS-1$
            String probeText = m.getString(KEY_PROBE);
            pendingProbe = probeText == null || probeText.isEmpty() ? null : probeText;
            follow = !Boolean.FALSE.equals(m.getBoolean(KEY_FOLLOW));
        }
    }

    @Override
    public void saveState(IMemento m) {
        super.saveState(m);
        Text pr = process;
        Combo p = probe;
        if (pr == null || pr.isDisposed() || p == null) {
            return;
        }
        m.putString(KEY_PROCESS, pr.getText().trim());
        String pending = pendingProbe;
        m.putString(KEY_PROBE,
                p.getSelectionIndex() > 0 ? p.getItem(p.getSelectionIndex()) : pending != null ? pending : ""); //$NON-NLS-1$
        m.putBoolean(KEY_FOLLOW, follow);
    }

    @Override
    protected Control createContents(Composite parent) {
        Composite top = new Composite(parent, SWT.NONE);
        GridLayout gl = new GridLayout(1, false);
        gl.marginWidth = gl.marginHeight = 2;
        top.setLayout(gl);
        Composite bar = new Composite(top, SWT.NONE);
        bar.setLayoutData(new GridData(SWT.FILL, SWT.CENTER, true, false));
        bar.setLayout(new GridLayout(10, false));
        new Label(bar, SWT.NONE).setText(Messages.Hits_probe);
        Combo p = new Combo(bar, SWT.READ_ONLY);
        p.setLayoutData(new GridData(160, SWT.DEFAULT));
        probe = p;
        Text proc = field(bar, Messages.Hits_process, Messages.Hits_processHint, 110);
        proc.setText(savedProcess);
        process = proc;
        from = field(bar, Messages.Hits_from, Messages.Hits_timeHint, 80);
        to = field(bar, Messages.Hits_to, Messages.Hits_timeHint, 80);
        Button apply = new Button(bar, SWT.PUSH);
        apply.setText(Messages.Hits_apply);
        apply.addListener(SWT.Selection, e -> applyFilter());
        Button clear = new Button(bar, SWT.PUSH);
        clear.setText(Messages.Hits_clear);
        clear.addListener(SWT.Selection, e -> clearFilter());
        for (Text t : new Text[]{ process, from, to }) {
            if (t != null) {
                t.addListener(SWT.DefaultSelection, e -> applyFilter());
            }
        }
        p.addListener(SWT.Selection, e -> {
            pendingProbe = null; // the user's choice now
            applyFilter();
        });

        Table t = new Table(top, SWT.VIRTUAL | SWT.BORDER | SWT.FULL_SELECTION | SWT.MULTI);
        t.setLayoutData(new GridData(SWT.FILL, SWT.FILL, true, true));
        t.setHeaderVisible(true);
        t.setLinesVisible(true);
        t.setFont(JFaceResources.getTextFont());
        makeColumns(t);
        t.addListener(SWT.SetData, e -> fill((TableItem) e.item, t.indexOf((TableItem) e.item)));
        t.addListener(SWT.Selection, e -> {
            Vm vm = vm();
            long index = storeIndex(t.getSelectionIndex());
            if (vm != null && index >= 0) {
                HitSelection.select(selection, vm, index, 1);
            }
        });
        table = t;
        getSite().setSelectionProvider(selection);
        // Edit > Copy (Ctrl+C): the selected rows as text a spreadsheet pastes into columns
        Action copy = new Action() {

            @Override
            public void run() {
                copySelection();
            }
        };
        getViewSite().getActionBars().setGlobalActionHandler(ActionFactory.COPY.getId(), copy);
        Action followAction = new Action(Messages.Hits_follow, IAction.AS_CHECK_BOX) {

            @Override
            public void run() {
                follow = isChecked();
                requestRefresh();
            }
        };
        followAction.setChecked(follow);
        followAction.setImageDescriptor(io.hprobe.ui.internal.Images.own("follow")); //$NON-NLS-1$
        followAction.setToolTipText(Messages.Hits_followTip);
        getViewSite().getActionBars().getToolBarManager().add(followAction);
        return top;
    }

    /** libhprobe's hit field table makes the columns: its titles, its docs as tooltips. Once. */
    private void makeColumns(Table t) {
        if (!columns.isEmpty()) {
            return;
        }
        columns = HitColumns.table();
        for (HitColumns.Column col : columns) {
            TableColumn c = new TableColumn(t, col.right() ? SWT.RIGHT : SWT.LEFT);
            c.setText(col.field().title());
            c.setToolTipText(col.field().doc());
            c.setWidth(col.width());
            c.setMoveable(true);
        }
    }

    /** The selected rows, tab-separated under the columns' titles, to the clipboard. */
    private void copySelection() {
        Table t = table;
        Vm vm = vm();
        if (t == null || vm == null || t.getSelectionCount() == 0) {
            return;
        }
        StringBuilder out = new StringBuilder(String.join("\t", columns.stream().map(c -> c.field().title()).toList())); //$NON-NLS-1$
        for (int row : t.getSelectionIndices()) {
            long i = storeIndex(row);
            if (i >= vm.hits().first()) { // else evicted meanwhile
                out.append('\n').append(String.join("\t", cells(vm, vm.hits().get(i)))); //$NON-NLS-1$
            }
        }
        out.append('\n');
        Clipboard clipboard = new Clipboard(t.getDisplay());
        try {
            clipboard.setContents(new Object[]{ out.toString() }, new Transfer[]{ TextTransfer.getInstance() });
        } finally {
            clipboard.dispose();
        }
    }

    private static Text field(Composite bar, String label, String hint, int width) {
        new Label(bar, SWT.NONE).setText(label);
        Text t = new Text(bar, SWT.BORDER);
        t.setMessage(hint);
        t.setLayoutData(new GridData(width, SWT.DEFAULT));
        return t;
    }

    private long storeIndex(int row) {
        Vm vm = vm();
        if (vm == null || row < 0) {
            return -1;
        }
        long[] r = rows;
        if (r != null) {
            return row < r.length ? r[row] : -1;
        }
        long i = vm.hits().first() + row;
        return i < vm.hits().size() ? i : -1;
    }

    private void fill(TableItem item, int row) {
        Vm vm = vm();
        long i = storeIndex(row);
        if (vm == null || i < vm.hits().first()) {
            item.setText(new String[]{ "", Messages.Hits_evicted }); //$NON-NLS-1$
            return;
        }
        item.setText(cells(vm, vm.hits().get(i)));
    }

    /** A hit's text in each column, as the table shows it and Copy puts it. */
    private String[] cells(Vm vm, Hit h) {
        String[] text = new String[columns.size()];
        for (int c = 0; c < text.length; c++) {
            text[c] = columns.get(c).value().of(vm, h);
        }
        return text;
    }

    /** Reads the filter fields; null (with the status line saying why) when one is invalid. */
    private @Nullable HitFilter readFilter(Vm vm) {
        Set<Integer> probes = new HashSet<>();
        Combo p = probe;
        if (p != null && p.getSelectionIndex() > 0 && p.getSelectionIndex() - 1 < probeChoices.size()) {
            probes.add(probeChoices.get(p.getSelectionIndex() - 1).id());
        }
        Set<Integer> procs = new HashSet<>();
        Text pr = process;
        String proc = pr == null ? "" : pr.getText().trim(); //$NON-NLS-1$
        String comm = ""; //$NON-NLS-1$
        try {
            if (!proc.isEmpty()) {
                procs.add(Integer.parseInt(proc));
            }
        } catch (NumberFormatException e) {
            comm = proc; // a part of a command name, matched per hit: processes that start later too
        }
        long origin = vm.timeOriginNs() == Long.MIN_VALUE ? 0 : vm.timeOriginNs();
        try {
            long f = seconds(from, origin, Long.MIN_VALUE);
            long t = seconds(to, origin, Long.MAX_VALUE);
            return new HitFilter(probes, procs, comm, f, t);
        } catch (NumberFormatException e) {
            getViewSite().getActionBars().getStatusLineManager().setErrorMessage(Messages.Hits_badTime);
            return null;
        }
    }

    private static long seconds(@Nullable Text field, long origin, long dflt) {
        String s = field == null ? "" : field.getText().trim(); //$NON-NLS-1$
        return s.isEmpty() ? dflt : origin + (long) (Double.parseDouble(s) * 1e9);
    }

    /** Applies the filter fields (the Apply button). */
    public void applyFilter() {
        Vm vm = vm();
        if (vm == null) {
            return;
        }
        getViewSite().getActionBars().getStatusLineManager().setErrorMessage(null);
        HitFilter f = readFilter(vm);
        if (f == null) {
            return;
        }
        filter = f;
        rows = f.isAll() ? null : new long[0];
        rowsUpTo = vm.hits().first();
        selecting = false; // a selection under another filter merges nothing now
        if (!f.isAll()) {
            select(vm, f, true);
        }
        requestRefresh();
    }

    /** The Hit Timeline's range becomes the From/To filter (cleared with it), as Trace Compass links them. */
    @Override
    public void timeRange(Vm vm, long fromNs, long toNs) {
        Text f = from, t = to;
        if (vm != vm() || f == null || t == null || f.isDisposed()) {
            return;
        }
        long origin = vm.timeOriginNs() == Long.MIN_VALUE ? 0 : vm.timeOriginNs();
        boolean all = fromNs == UiContext.ALL;
        f.setText(all ? "" : Format.seconds(fromNs - origin)); //$NON-NLS-1$
        t.setText(all ? "" : Format.seconds(toNs - origin)); //$NON-NLS-1$
        applyFilter();
    }

    private void clearFilter() {
        pendingProbe = null;
        for (Text t : new Text[]{ process, from, to }) {
            if (t != null) {
                t.setText(""); //$NON-NLS-1$
            }
        }
        Combo p = probe;
        if (p != null) {
            p.select(0);
        }
        applyFilter();
    }

    /** Selects matching rows in a job: from scratch, or only the hits appended since the last run. */
    private void select(Vm vm, HitFilter f, boolean fromScratch) {
        Job old = filterJob;
        if (old != null && fromScratch) {
            old.cancel();
        }
        long start = fromScratch ? vm.hits().first() : rowsUpTo;
        long end = vm.hits().size();
        selecting = true; // no tail selection until this one is merged: it would start from a stale rowsUpTo
        Job job = Job.create(Messages.Hits_filtering, monitor -> {
            long[] sel = f.select(vm.hits(), start, end, monitor::isCanceled);
            if (sel == null) {
                return Status.CANCEL_STATUS;
            }
            org.eclipse.swt.widgets.Display.getDefault().asyncExec(() -> {
                if (vm != vm() || f != filter) {
                    return;
                }
                selecting = false;
                long[] current = rows;
                long[] prev = fromScratch || current == null ? new long[0] : current;
                long[] merged = java.util.Arrays.copyOf(prev, prev.length + sel.length);
                System.arraycopy(sel, 0, merged, prev.length, sel.length);
                rows = merged;
                rowsUpTo = end;
                showRows();
            });
            return Status.OK_STATUS;
        });
        job.setSystem(!fromScratch);
        filterJob = job;
        job.schedule();
    }

    @Override
    protected boolean matters(ModelChange change) {
        return hitsOrProbes(change);
    }

    @Override
    protected int refreshPeriodMs() {
        return 300;
    }

    @Override
    protected void refresh() {
        Table t = table;
        if (t == null || t.isDisposed()) {
            return;
        }
        makeColumns(t); // without libhprobe, the fields come with the agent
        Vm vm = vm();
        boolean another = vm != shownVm;
        if (another) {
            shownVm = vm;
            filter = HitFilter.ALL;
            rows = null;
            selecting = false;
            t.removeAll();
        }
        boolean restoredProbe = updateProbeChoices(vm);
        if (vm == null) {
            t.setItemCount(0);
            setContentDescription(Messages.Hits_noVm);
            return;
        }
        if (another || restoredProbe) {
            applyFilter(); // the fields as shown, on this VM's hits
        }
        if (rows != null && vm.hits().size() > rowsUpTo && !selecting) {
            select(vm, filter, false); // new hits under a filter: select the tail only
        }
        showRows();
    }

    private void showRows() {
        Table t = table;
        Vm vm = vm();
        if (t == null || t.isDisposed() || vm == null) {
            return;
        }
        long[] r = rows;
        long n = r != null ? r.length : vm.hits().count();
        int count = (int) Math.min(n, Integer.MAX_VALUE - 1);
        if (count != t.getItemCount()) {
            boolean shrink = count < t.getItemCount();
            t.setItemCount(count);
            if (shrink || r != null) {
                t.clearAll();
            }
            if (follow && count > 0) {
                t.setTopIndex(count - 1);
            }
        }
        int answered = vm.addressNamesAnswered();
        if (answered != namesShown) {
            namesShown = answered;
            t.clearAll(); // rows drawn before their IPs' names came are drawn again
        }
        setContentDescription(NLS.bind(r != null ? Messages.Hits_descriptionFiltered : Messages.Hits_description,
                new Object[]{ vm.name(), count, vm.hits().count() }));
    }

    /** Fills the probe choices; true when the probe chosen at the last exit has just been selected. */
    private boolean updateProbeChoices(@Nullable Vm vm) {
        Combo p = probe;
        if (p == null) {
            return false;
        }
        List<Probe> now = vm == null ? List.of() : vm.probes();
        if (now.stream().map(Probe::id).toList().equals(probeChoices.stream().map(Probe::id).toList())
                && p.getItemCount() == now.size() + 1) {
            return false;
        }
        int sel = p.getSelectionIndex();
        String pending = pendingProbe;
        String selText = sel > 0 ? p.getItem(sel) : pending;
        probeChoices = now;
        p.removeAll();
        p.add(Messages.Hits_allProbes);
        for (Probe pr : now) {
            p.add("#" + pr.id() + " " + pr.label()); //$NON-NLS-1$ //$NON-NLS-2$
        }
        int idx = selText == null ? 0 : Math.max(0, p.indexOf(selText));
        p.select(idx);
        if (pending != null && idx > 0 && pending.equals(selText)) {
            pendingProbe = null;
            return true;
        }
        return false;
    }

    @Override
    public void setFocus() {
        Table t = table;
        if (t != null) {
            t.setFocus();
        }
    }

}
