package io.hprobe.ui.views;

import java.util.HashMap;
import java.util.List;
import java.util.Map;

import org.eclipse.jdt.annotation.Nullable;
import org.eclipse.jface.viewers.ArrayContentProvider;
import org.eclipse.jface.viewers.ColumnLabelProvider;
import org.eclipse.jface.viewers.TableViewer;
import org.eclipse.jface.viewers.TableViewerColumn;
import org.eclipse.osgi.util.NLS;
import org.eclipse.swt.SWT;
import org.eclipse.swt.layout.GridData;
import org.eclipse.swt.layout.GridLayout;
import org.eclipse.swt.widgets.Composite;
import org.eclipse.swt.widgets.Control;
import org.eclipse.swt.widgets.Label;

import io.hprobe.core.model.Agent;
import io.hprobe.core.model.Vm;
import io.hprobe.core.model.VmStats;
import io.hprobe.core.model.VmStats.Row;
import io.hprobe.ui.Messages;

/**
 * The selected VM's counters that no hit shows (vm-stats: the journal's, and the in-QEMU tier's filtered
 * hits, read errors, task cache, re-instrumentations), read every second with their change per second on
 * the host's clock. The words are VmStats'.
 */
public class VmStatsView extends HProbeView {

    public static final String ID = "io.hprobe.ui.vmStats"; //$NON-NLS-1$
    private static final int POLL_MS = 1000;

    private @Nullable Label status;
    private @Nullable TableViewer table;
    private @Nullable VmStats shown;
    private final Map<String, Double> perSecond = new HashMap<>();
    private final Map<String, Long> last = new HashMap<>();
    private long lastNs;
    private @Nullable Vm lastVm;
    private boolean reading;

    @Override
    protected Control createContents(Composite parent) {
        Composite top = new Composite(parent, SWT.NONE);
        top.setLayout(new GridLayout(1, false));
        Label s = new Label(top, SWT.NONE);
        s.setLayoutData(new GridData(SWT.FILL, SWT.CENTER, true, false));
        status = s;
        TableViewer t = new TableViewer(top, SWT.BORDER | SWT.FULL_SELECTION);
        t.getTable().setHeaderVisible(true);
        t.getTable().setLinesVisible(true);
        t.getTable().setLayoutData(new GridData(SWT.FILL, SWT.FILL, true, true));
        col(t, Messages.VmStats_counter, 170, SWT.LEFT, Row::label);
        col(t, Messages.VmStats_value, 110, SWT.RIGHT, r -> String.format("%,d", r.value())); //$NON-NLS-1$
        col(t, Messages.VmStats_rate, 90, SWT.RIGHT, r -> {
            Double v = perSecond.get(r.label());
            return v == null ? "" : String.format("%,.0f", v); //$NON-NLS-1$ //$NON-NLS-2$
        });
        col(t, Messages.VmStats_meaning, 380, SWT.LEFT, Row::meaning);
        t.setContentProvider(ArrayContentProvider.getInstance());
        table = t;
        pollEvery(top, POLL_MS, this::read); // the agent pushes no counter
        return top;
    }

    private interface Text {

        String of(Row r);
    }

    private static void col(TableViewer v, String title, int width, int align, Text text) {
        TableViewerColumn c = new TableViewerColumn(v, align);
        c.getColumn().setText(title);
        c.getColumn().setWidth(width);
        c.setLabelProvider(ColumnLabelProvider.createTextProvider(o -> o instanceof Row r ? text.of(r) : "")); //$NON-NLS-1$
    }

    /** The counters shown now (UI thread). */
    public @Nullable VmStats stats() {
        return shown;
    }

    @Override
    protected void refresh() {
        read();
    }

    private void read() {
        Vm vm = vm();
        Agent a = vm == null ? null : vm.agent();
        TableViewer t = table;
        if (t == null || t.getTable().isDisposed() || reading) {
            return;
        }
        if (vm == null || a == null) {
            show(null, vm == null ? Messages.VmStats_noVm : NLS.bind(Messages.VmStats_offline, vm.name()));
            return;
        }
        reading = true;
        a.readStats(vm).whenComplete((st, e) -> t.getTable().getDisplay().asyncExec(() -> {
            reading = false;
            if (t.getTable().isDisposed() || vm != vm()) {
                return;
            }
            if (e != null) {
                show(null, NLS.bind(Messages.VmStats_failed,
                        e.getCause() != null ? e.getCause().getMessage() : e.getMessage()));
            } else {
                rates(vm, st);
                show(st, NLS.bind(st.tier() != null ? Messages.VmStats_tier : Messages.VmStats_noTier, vm.name()));
            }
        }));
    }

    /** Each counter's change per second since the last read, on the host's monotonic clock. */
    private void rates(Vm vm, VmStats st) {
        long now = System.nanoTime();
        if (vm != lastVm) {
            last.clear();
            lastVm = vm;
        }
        perSecond.clear();
        for (Row r : st.rows()) {
            Long before = last.put(r.label(), r.value());
            if (before != null && now > lastNs) {
                perSecond.put(r.label(), (r.value() - before) * 1e9 / (now - lastNs));
            }
        }
        lastNs = now;
    }

    private void show(@Nullable VmStats st, String text) {
        shown = st;
        TableViewer t = table;
        if (t != null) {
            t.setInput(st == null ? List.of() : st.rows());
        }
        Label s = status;
        if (s != null && !s.isDisposed()) {
            s.setText(text);
            s.getParent().layout();
        }
    }

    @Override
    public void setFocus() {
        TableViewer t = table;
        if (t != null) {
            t.getControl().setFocus();
        }
    }
}
