package io.hprobe.ui.wizards;

import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

import org.eclipse.jdt.annotation.Nullable;
import org.eclipse.jface.viewers.ArrayContentProvider;
import org.eclipse.jface.viewers.CheckboxTableViewer;
import org.eclipse.jface.viewers.LabelProvider;
import org.eclipse.jface.wizard.WizardPage;
import org.eclipse.osgi.util.NLS;
import org.eclipse.swt.SWT;
import org.eclipse.swt.layout.GridData;
import org.eclipse.swt.layout.GridLayout;
import org.eclipse.swt.widgets.Button;
import org.eclipse.swt.widgets.Composite;
import org.eclipse.swt.widgets.DirectoryDialog;
import org.eclipse.swt.widgets.FileDialog;
import org.eclipse.swt.widgets.Combo;
import org.eclipse.swt.widgets.Label;
import org.eclipse.swt.widgets.Text;

import io.hprobe.core.journal.ExportFormat;
import io.hprobe.core.journal.ExportRequest;
import io.hprobe.core.model.Probe;
import io.hprobe.core.model.Vm;
import io.hprobe.ui.Messages;

/** What to export: the format and where, and which probes, processes and time range. */
final class ExportPage extends WizardPage {

    private final Vm vm;
    private final Path journal;
    private ExportFormat format = ExportFormat.CTF;
    private @Nullable Text out;
    private @Nullable CheckboxTableViewer probes;
    private @Nullable CheckboxTableViewer processes;
    private @Nullable Text from;
    private @Nullable Text to;
    private @Nullable Combo formatCombo;

    ExportPage(Vm vm, Path journal) {
        super("export"); //$NON-NLS-1$
        this.vm = vm;
        this.journal = journal;
        setTitle(Messages.Export_title);
        setDescription(NLS.bind(Messages.Export_description, vm.name(), journal));
    }

    @Override
    public void createControl(Composite parent) {
        Composite c = new Composite(parent, SWT.NONE);
        c.setLayout(new GridLayout(3, false));
        new Label(c, SWT.NONE).setText(Messages.Export_format);
        Combo formats = new Combo(c, SWT.READ_ONLY);
        formats.setLayoutData(new GridData(SWT.FILL, SWT.CENTER, true, false, 2, 1));
        for (String label : new String[]{ Messages.Export_csv, Messages.Export_jsonl, Messages.Export_chrome,
                Messages.Export_ctf }) {
            formats.add(label);
        }
        formats.select(format.ordinal());
        formats.addListener(SWT.Selection, e -> {
            format = ExportFormat.values()[Math.max(0, formats.getSelectionIndex())];
            suggestOut();
            validate();
        });
        formatCombo = formats;
        new Label(c, SWT.NONE).setText(Messages.Export_out);
        Text o = new Text(c, SWT.BORDER);
        o.setLayoutData(new GridData(SWT.FILL, SWT.CENTER, true, false));
        o.addModifyListener(e -> validate());
        out = o;
        Button browse = new Button(c, SWT.PUSH);
        browse.setText(Messages.Browse);
        browse.addListener(SWT.Selection, e -> {
            String path;
            if (format.isDirectory()) {
                DirectoryDialog d = new DirectoryDialog(getShell(), SWT.SAVE);
                path = d.open();
            } else {
                FileDialog d = new FileDialog(getShell(), SWT.SAVE);
                d.setFilterExtensions(new String[]{ "*." + format.extension() }); //$NON-NLS-1$
                path = d.open();
            }
            if (path != null) {
                o.setText(path);
            }
        });
        probes = checklist(c, Messages.Export_probes, vm.probes(),
                p -> p instanceof Probe pr
                        ? "#" + pr.id() + " " + pr.label() //$NON-NLS-1$ //$NON-NLS-2$
                                + "  (" + pr.hits() + ")" //$NON-NLS-1$//$NON-NLS-2$
                        : String.valueOf(p));
        Map<Integer, String> procs = new TreeMap<>();
        for (Map.Entry<Integer, long[]> e : vm.hits().perProcess().entrySet()) {
            procs.put(e.getKey(), vm.hits().commOf(e.getKey()) + " (" + e.getKey() + ")  " + e.getValue()[0]); //$NON-NLS-1$ //$NON-NLS-2$
        }
        processes = checklist(c, Messages.Export_processes, List.copyOf(procs.entrySet()),
                p -> p instanceof Map.Entry<?, ?> me ? String.valueOf(me.getValue()) : String.valueOf(p));
        new Label(c, SWT.NONE).setText(Messages.Export_from);
        from = text(c, Messages.Export_timeHint);
        new Label(c, SWT.NONE).setText(Messages.Export_to);
        to = text(c, Messages.Export_timeHint);
        suggestOut();
        setControl(c);
        validate();
    }

    private interface Labeler {

        String of(Object o);
    }

    private static CheckboxTableViewer checklist(Composite c, String title, List<?> items, Labeler labeler) {
        Label l = new Label(c, SWT.NONE);
        l.setText(title);
        l.setLayoutData(new GridData(SWT.BEGINNING, SWT.TOP, false, false));
        CheckboxTableViewer v = CheckboxTableViewer.newCheckList(c, SWT.BORDER);
        GridData d = new GridData(SWT.FILL, SWT.FILL, true, true, 2, 1);
        d.heightHint = 90;
        v.getControl().setLayoutData(d);
        v.setContentProvider(ArrayContentProvider.getInstance());
        v.setLabelProvider(new LabelProvider() {

            @Override
            public String getText(@Nullable Object element) {
                return element == null ? "" : labeler.of(element); //$NON-NLS-1$
            }
        });
        v.setInput(items);
        v.setAllChecked(true);
        return v;
    }

    private Text text(Composite c, String hint) {
        Text t = new Text(c, SWT.BORDER);
        t.setMessage(hint);
        t.setLayoutData(new GridData(SWT.FILL, SWT.CENTER, true, false, 2, 1));
        t.addModifyListener(e -> validate());
        return t;
    }

    private void suggestOut() {
        Text o = out;
        if (o == null) {
            return;
        }
        io.hprobe.core.model.Agent a = vm.agent();
        // another host's journal: its copy sits in a temporary directory
        String agentPath = vm.info().journal();
        boolean copy = a != null && agentPath != null && !io.hprobe.core.model.JournalCopy.sharesFiles(a, agentPath);
        Path dir = copy || journal.getParent() == null
                ? Path.of(System.getProperty("user.home")) //$NON-NLS-1$
                : journal.getParent();
        String name = vm.name() + "-trace" + (format.isDirectory() ? "-ctf" : "." + format.extension()); //$NON-NLS-1$ //$NON-NLS-2$ //$NON-NLS-3$
        o.setText(dir.resolve(name).toString());
    }

    private long seconds(@Nullable Text t) {
        String s = t == null ? "" : t.getText().trim(); //$NON-NLS-1$
        return s.isEmpty() ? 0 : (long) (Double.parseDouble(s) * 1e9);
    }

    private void validate() {
        String err = null;
        Text o = out;
        if (o == null || o.getText().trim().isEmpty()) {
            err = Messages.Export_needOut;
        } else {
            try {
                long f = seconds(from), t = seconds(to);
                if (t != 0 && t < f) {
                    err = Messages.Export_badRange;
                }
            } catch (NumberFormatException e) {
                err = Messages.Export_badTime;
            }
        }
        setErrorMessage(err);
        setPageComplete(err == null);
        if (getContainer() != null && getContainer().getCurrentPage() == this) {
            getContainer().updateButtons();
        }
    }

    /** Selects the export format (tests; the radio buttons otherwise). */
    void setFormat(ExportFormat f) {
        format = f;
        Combo fc = formatCombo;
        if (fc != null) {
            fc.select(f.ordinal());
        }
        suggestOut();
        validate();
    }

    void setOut(String path) {
        Text o = out;
        if (o != null) {
            o.setText(path);
        }
    }

    ExportRequest request() {
        Set<Integer> ps = new HashSet<>();
        CheckboxTableViewer pv = probes;
        if (pv != null && pv.getCheckedElements().length < vm.probes().size()) {
            for (Object o : pv.getCheckedElements()) {
                if (o instanceof Probe p) {
                    ps.add(p.id());
                }
            }
            if (ps.isEmpty()) {
                ps.add(-1); // none chosen: nothing matches
            }
        }
        Set<Integer> pids = new HashSet<>();
        CheckboxTableViewer cv = processes;
        if (cv != null && cv.getCheckedElements().length < cv.getTable().getItemCount()) {
            for (Object o : cv.getCheckedElements()) {
                if (o instanceof Map.Entry<?, ?> e && e.getKey() instanceof Integer pid) {
                    pids.add(pid);
                }
            }
            if (pids.isEmpty()) {
                pids.add(Integer.MIN_VALUE);
            }
        }
        Text o = out;
        return new ExportRequest(journal, format, Path.of(o == null ? "" : o.getText().trim()), ps, pids, seconds(from), //$NON-NLS-1$
                seconds(to));
    }
}
