package io.hprobe.ui.views;

import java.util.HashMap;
import java.util.List;
import java.util.Map;

import org.eclipse.jdt.annotation.Nullable;
import org.eclipse.jface.action.Action;
import org.eclipse.jface.action.MenuManager;
import org.eclipse.jface.dialogs.MessageDialog;
import org.eclipse.jface.resource.JFaceResources;
import org.eclipse.osgi.util.NLS;
import org.eclipse.swt.SWT;
import org.eclipse.swt.custom.SashForm;
import org.eclipse.swt.graphics.Color;
import org.eclipse.swt.layout.GridData;
import org.eclipse.swt.layout.GridLayout;
import org.eclipse.swt.widgets.Button;
import org.eclipse.swt.widgets.Composite;
import org.eclipse.swt.widgets.Control;
import org.eclipse.swt.widgets.Display;
import org.eclipse.swt.widgets.FileDialog;
import org.eclipse.swt.widgets.Label;
import org.eclipse.swt.widgets.Table;
import org.eclipse.swt.widgets.TableColumn;
import org.eclipse.swt.widgets.TableItem;
import org.eclipse.swt.widgets.Text;
import org.eclipse.ui.operations.UndoRedoActionGroup;

import io.hprobe.core.model.Agent;
import io.hprobe.core.model.ModelChange;
import io.hprobe.core.model.ProbeRequest;
import io.hprobe.core.model.Vm;
import io.hprobe.core.symbols.Disassembly;
import io.hprobe.core.symbols.Instruction;
import io.hprobe.core.symbols.Symbol;
import io.hprobe.core.symbols.SymbolIndex;
import io.hprobe.ui.Messages;
import io.hprobe.ui.internal.Format;
import io.hprobe.ui.internal.Images;
import io.hprobe.ui.internal.Jobs;
import io.hprobe.ui.operations.AddProbeOperation;
import io.hprobe.ui.operations.Operations;
import io.hprobe.ui.preferences.Prefs;

/**
 * Where probes are placed: instant search over the kernel's symbols (or a guest binary's), the selected
 * function's disassembly with its loops' back-edges marked, and a form for what the probe captures.
 * Double-click (or "Probe here") on a symbol probes its entry; on an instruction, that instruction.
 */
public class ProbeEditorView extends HProbeView {

    public static final String ID = "io.hprobe.ui.probeEditor"; //$NON-NLS-1$
    private static final int SHOWN = 2000;

    private @Nullable Label vmLabel;
    private @Nullable Text search;
    private @Nullable Label count;
    private @Nullable Table symbols;
    private @Nullable Table disas;
    private @Nullable Label disasTitle;
    private @Nullable Text binary;
    private @Nullable Button kernelSource;
    /** Browses this machine's files: off for a VM of an agent on another host. */
    private @Nullable Button browseButton;
    private @Nullable ProbeForm form;
    private @Nullable Color backEdge;
    private final Map<String, SymbolIndex> indexes = new HashMap<>();
    /** Keys of the indexes a job is loading (UI thread): a refresh meanwhile starts no second load. */
    private final java.util.Set<String> loading = new java.util.HashSet<>();
    private @Nullable SymbolIndex index;
    private List<Symbol> shown = List.of();
    private @Nullable Disassembly listing;
    private @Nullable Vm indexedVm;
    private String indexedSource = ""; //$NON-NLS-1$

    @Override
    protected Control createContents(Composite parent) {
        Composite top = new Composite(parent, SWT.NONE);
        GridLayout gl = new GridLayout(1, false);
        gl.marginWidth = gl.marginHeight = 3;
        top.setLayout(gl);
        backEdge = new Color(top.getDisplay(), Prefs.color(Prefs.COLOR_BACK_EDGE));

        Composite bar = new Composite(top, SWT.NONE);
        bar.setLayoutData(new GridData(SWT.FILL, SWT.CENTER, true, false));
        bar.setLayout(new GridLayout(7, false));
        Label vl = new Label(bar, SWT.NONE);
        vl.setLayoutData(new GridData(SWT.BEGINNING, SWT.CENTER, false, false));
        vmLabel = vl;
        Button kernel = new Button(bar, SWT.RADIO);
        kernel.setText(Messages.ProbeEditor_kernel);
        kernel.setSelection(true);
        kernelSource = kernel;
        Button bin = new Button(bar, SWT.RADIO);
        bin.setText(Messages.ProbeEditor_binary);
        Text path = new Text(bar, SWT.BORDER);
        path.setMessage(Messages.ProbeEditor_binaryHint);
        path.setLayoutData(new GridData(SWT.FILL, SWT.CENTER, true, false));
        binary = path;
        Button browse = new Button(bar, SWT.PUSH);
        browse.setText(Messages.Browse);
        browseButton = browse;
        browse.addListener(SWT.Selection, e -> {
            FileDialog d = new FileDialog(getSite().getShell(), SWT.OPEN);
            String f = d.open();
            if (f != null) {
                path.setText(f);
                bin.setSelection(true);
                kernel.setSelection(false);
                loadIndex();
            }
        });
        kernel.addListener(SWT.Selection, e -> loadIndex());
        bin.addListener(SWT.Selection, e -> loadIndex());
        path.addListener(SWT.DefaultSelection, e -> {
            bin.setSelection(true);
            kernel.setSelection(false);
            loadIndex();
        });
        Text s = new Text(bar, SWT.SEARCH | SWT.ICON_SEARCH | SWT.ICON_CANCEL | SWT.BORDER);
        s.setMessage(Messages.ProbeEditor_searchHint);
        GridData sd = new GridData(SWT.FILL, SWT.CENTER, true, false);
        sd.widthHint = 220;
        s.setLayoutData(sd);
        s.addModifyListener(e -> runSearch());
        s.addListener(SWT.DefaultSelection, e -> {
            Table t = symbols;
            if (t != null && t.getItemCount() > 0) {
                t.setSelection(0);
                symbolSelected();
                t.setFocus();
            }
        });
        search = s;
        Label c = new Label(bar, SWT.NONE);
        c.setLayoutData(new GridData(SWT.END, SWT.CENTER, false, false));
        count = c;

        SashForm sash = new SashForm(top, SWT.HORIZONTAL);
        sash.setLayoutData(new GridData(SWT.FILL, SWT.FILL, true, true));
        Table st = new Table(sash, SWT.VIRTUAL | SWT.BORDER | SWT.FULL_SELECTION | SWT.SINGLE);
        st.setHeaderVisible(true);
        column(st, Messages.ProbeEditor_symbol, 230);
        column(st, Messages.ProbeEditor_address, 140);
        column(st, Messages.ProbeEditor_type, 40);
        column(st, Messages.ProbeEditor_size, 50);
        st.addListener(SWT.SetData, e -> {
            TableItem item = (TableItem) e.item;
            int i = st.indexOf(item);
            if (i >= 0 && i < shown.size()) {
                Symbol sym = shown.get(i);
                item.setText(new String[]{ sym.name(), Format.hex(sym.addr()), String.valueOf(sym.type()),
                        Long.toString(sym.size()) });
            }
        });
        st.addListener(SWT.Selection, e -> symbolSelected());
        st.addListener(SWT.DefaultSelection, e -> probeSymbol());
        symbols = st;

        Composite right = new Composite(sash, SWT.NONE);
        GridLayout rl = new GridLayout(1, false);
        rl.marginWidth = rl.marginHeight = 0;
        right.setLayout(rl);
        Label dt = new Label(right, SWT.NONE);
        dt.setLayoutData(new GridData(SWT.FILL, SWT.CENTER, true, false));
        disasTitle = dt;
        Table d = new Table(right, SWT.BORDER | SWT.FULL_SELECTION | SWT.SINGLE);
        d.setHeaderVisible(true);
        d.setFont(JFaceResources.getTextFont());
        d.setLayoutData(new GridData(SWT.FILL, SWT.FILL, true, true));
        column(d, "", 28); //$NON-NLS-1$
        column(d, Messages.ProbeEditor_address, 150);
        column(d, Messages.ProbeEditor_bytes, 130);
        column(d, Messages.ProbeEditor_insn, 300);
        d.addListener(SWT.Selection, e -> instructionSelected());
        d.addListener(SWT.DefaultSelection, e -> probeInstruction());
        disas = d;
        sash.setWeights(40, 60);

        form = new ProbeForm(top, this::addFromForm);
        makeActions(st, d);
        new UndoRedoActionGroup(getSite(),
                getSite().getWorkbenchWindow().getWorkbench().getOperationSupport().getUndoContext(), true)
                .fillActionBars(getViewSite().getActionBars());
        top.addDisposeListener(e -> {
            Color b = backEdge;
            if (b != null) {
                b.dispose();
            }
        });
        return top;
    }

    private static void column(Table t, String title, int width) {
        TableColumn c = new TableColumn(t, SWT.LEFT);
        c.setText(title);
        c.setWidth(width);
    }

    private void makeActions(Table st, Table d) {
        Action here = new Action(Messages.ProbeEditor_probeHere) {

            @Override
            public void run() {
                if (d.isFocusControl() && d.getSelectionIndex() >= 0) {
                    probeInstruction();
                } else {
                    probeSymbol();
                }
            }
        };
        here.setImageDescriptor(Images.own("probe")); //$NON-NLS-1$
        here.setToolTipText(Messages.ProbeEditor_probeHereTip);
        Action onInsn = new Action(Messages.ProbeEditor_probeInsn) {

            @Override
            public void run() {
                probeInstruction();
            }
        };
        MenuManager sm = new MenuManager();
        sm.add(here);
        st.setMenu(sm.createContextMenu(st));
        MenuManager dm = new MenuManager();
        dm.add(onInsn);
        d.setMenu(dm.createContextMenu(d));
        getViewSite().getActionBars().getToolBarManager().add(here);
    }

    // ---- symbols ----

    private String source() {
        Button k = kernelSource;
        Text b = binary;
        return k == null || k.getSelection() || b == null ? "" : b.getText().trim(); //$NON-NLS-1$
    }

    private void loadIndex() {
        Vm vm = vm();
        String src = source();
        indexedVm = vm;
        indexedSource = src;
        index = null;
        shown = List.of();
        runSearch();
        if (vm == null) {
            return;
        }
        Agent a = vm.agent();
        if (a == null || !vm.isLive()) {
            setCount(Messages.ProbeEditor_offline);
            return;
        }
        String key = vm.name() + "\u0000" + src; //$NON-NLS-1$
        SymbolIndex cached = indexes.get(key);
        if (cached != null) {
            index = cached;
            runSearch();
            return;
        }
        setCount(Messages.ProbeEditor_loading);
        if (!loading.add(key)) {
            return; // its job is on the way
        }
        Display display = getSite().getShell().getDisplay();
        Jobs.agent(NLS.bind(Messages.Job_symbols, src.isEmpty() ? vm.name() : src),
                () -> Jobs.quietIfVmGone(a.loadSymbols(vm, src.isEmpty() ? null : src)).whenComplete((ix, e) -> {
                    if (e != null) {
                        display.asyncExec(() -> loading.remove(key)); // the next refresh tries again
                    }
                }), ix -> {
                    loading.remove(key);
                    indexes.put(key, ix);
                    if (vm == indexedVm && src.equals(indexedSource)) {
                        index = ix;
                        runSearch();
                    }
                });
    }

    private void setCount(String text) {
        Label c = count;
        if (c != null && !c.isDisposed()) {
            c.setText(text);
            c.getParent().layout();
        }
    }

    /** Filters the index with the search text: synchronous, a few ms for 150k symbols. */
    private void runSearch() {
        Table t = symbols;
        Text s = search;
        if (t == null || s == null || t.isDisposed()) {
            return;
        }
        SymbolIndex ix = index;
        if (ix == null) {
            shown = List.of();
            t.setItemCount(0);
            return;
        }
        SymbolIndex.Result r = ix.search(s.getText(), SHOWN);
        shown = r.symbols();
        t.clearAll();
        t.setItemCount(shown.size());
        setCount(NLS.bind(Messages.ProbeEditor_count, r.total(), ix.size()));
    }

    private @Nullable Symbol selectedSymbol() {
        Table t = symbols;
        int i = t == null ? -1 : t.getSelectionIndex();
        return i >= 0 && i < shown.size() ? shown.get(i) : null;
    }

    private void symbolSelected() {
        Symbol sym = selectedSymbol();
        ProbeForm f = form;
        if (sym == null || f == null) {
            return;
        }
        String spec = specFor(sym.name());
        f.setSpec(spec);
        Vm vm = vm();
        Agent a = vm == null ? null : vm.agent();
        if (vm == null || a == null || !sym.isFunction()) {
            showListing(null);
            return;
        }
        Jobs.agent(NLS.bind(Messages.Job_disas, sym.name()), () -> a.disassemble(vm, spec), this::showListing, true);
    }

    private String specFor(String function) {
        String src = source();
        return src.isEmpty() ? "kernel:" + function : "app:" + src + ":" + function; //$NON-NLS-1$ //$NON-NLS-2$ //$NON-NLS-3$
    }

    private void showListing(@Nullable Disassembly dis) {
        Table d = disas;
        Label title = disasTitle;
        if (d == null || title == null || d.isDisposed()) {
            return;
        }
        int keep = dis == listing ? d.getSelectionIndex() : -1;
        listing = dis;
        d.setRedraw(false);
        d.removeAll();
        if (dis == null) {
            d.setRedraw(true);
            title.setText(""); //$NON-NLS-1$
            return;
        }
        int loops = 0;
        for (Instruction i : dis.instructions()) {
            TableItem item = new TableItem(d, SWT.NONE);
            boolean probed = probedAddresses().contains(i.addr());
            String mark = (probed ? "\u25cf" : "") //$NON-NLS-1$ //$NON-NLS-2$
                    + (i.backEdge() ? "\u21ba" : dis.isLoopHead(i.addr()) ? "\u25b8" : ""); //$NON-NLS-1$ //$NON-NLS-2$ //$NON-NLS-3$
            item.setText(new String[]{ mark, Format.hex(i.addr()), i.bytes(), i.display() });
            if (i.backEdge()) {
                loops++;
                item.setForeground(backEdge);
            }
        }
        if (keep >= 0 && keep < d.getItemCount()) {
            d.setSelection(keep);
        }
        d.setRedraw(true);
        title.setText(NLS.bind(Messages.ProbeEditor_disasTitle,
                new Object[]{ dis.function(), dis.instructions().size(), loops }));
    }

    /** Where the selected VM has probes: marked in the listing. */
    private java.util.Set<Long> probedAddresses() {
        Vm vm = vm();
        java.util.Set<Long> s = new java.util.HashSet<>();
        if (vm != null) {
            for (io.hprobe.core.model.Probe p : vm.probes()) {
                s.add(p.addr());
            }
        }
        return s;
    }

    private void instructionSelected() {
        Table d = disas;
        Disassembly dis = listing;
        ProbeForm f = form;
        if (d == null || dis == null || f == null) {
            return;
        }
        int i = d.getSelectionIndex();
        if (i >= 0 && i < dis.instructions().size()) {
            f.setSpec(dis.specAt(dis.instructions().get(i).addr(), source()));
        }
    }

    // ---- adding probes ----

    private void probeSymbol() {
        Symbol sym = selectedSymbol();
        if (sym == null) {
            return;
        }
        if (!sym.isFunction()) {
            MessageDialog.openInformation(getSite().getShell(), Messages.ProbeEditor_probeHere,
                    NLS.bind(Messages.ProbeEditor_notCode, sym.name(), sym.type()));
            return;
        }
        add(specFor(sym.name()));
    }

    private void probeInstruction() {
        Table d = disas;
        Disassembly dis = listing;
        if (d == null || dis == null) {
            return;
        }
        int i = d.getSelectionIndex();
        if (i >= 0 && i < dis.instructions().size()) {
            add(dis.specAt(dis.instructions().get(i).addr(), source()));
        }
    }

    /** Adds a probe with the spec field's text and the form's options (the form's Add button, Ctrl+Shift+P). */
    public void addFromForm() {
        ProbeForm f = form;
        if (f == null || f.spec().isEmpty()) {
            Text s = search;
            if (s != null) {
                s.setFocus();
            }
            return;
        }
        add(f.spec());
    }

    private void add(String spec) {
        Vm vm = vm();
        ProbeForm f = form;
        if (vm == null || f == null) {
            return;
        }
        if (!vm.isLive()) {
            MessageDialog.openInformation(getSite().getShell(), Messages.ProbeEditor_probeHere,
                    NLS.bind(Messages.Error_offline, vm.name()));
            return;
        }
        ProbeRequest r = f.request(spec);
        if (r == null) {
            MessageDialog.openError(getSite().getShell(), Messages.ProbeEditor_probeHere, Messages.ProbeForm_badPid);
            return;
        }
        Operations.execute(new AddProbeOperation(vm, r));
    }

    // ---- following the model ----

    @Override
    protected boolean matters(ModelChange change) {
        return change.kind() == ModelChange.Kind.VMS || change.vm() == vm()
                && (change.kind() == ModelChange.Kind.VM_INFO || change.kind() == ModelChange.Kind.PROBES);
    }

    @Override
    public void vmSelected(@Nullable Vm vm) {
        requestRefresh();
    }

    @Override
    protected void refresh() {
        Label l = vmLabel;
        if (l == null || l.isDisposed()) {
            return;
        }
        Vm vm = vm();
        l.setText(vm == null ? Messages.ProbeEditor_noVm : NLS.bind(Messages.ProbeEditor_vm, vm.name()));
        l.getParent().layout();
        ProbeForm f = form;
        if (f != null) {
            f.setEnabled(vm != null && vm.isLive());
        }
        Button b = browseButton;
        Agent a = vm == null ? null : vm.agent();
        if (b != null && !b.isDisposed()) {
            String remote = a != null && a.isRemote() ? a.target() : null;
            b.setEnabled(remote == null);
            b.setToolTipText(remote == null ? null : NLS.bind(Messages.ProbeEditor_remoteBrowse, remote));
        }
        if (vm != indexedVm || index == null && vm != null && vm.isLive() && vm.info().isRunning()) {
            loadIndex();
        }
        Disassembly dis = listing;
        if (dis != null) {
            showListing(dis); // probe marks follow the probes
        }
    }

    @Override
    public void setFocus() {
        Text s = search;
        if (s != null) {
            s.setFocus();
        }
    }
}
