package io.hprobe.ui.views;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

import org.eclipse.jdt.annotation.Nullable;
import org.eclipse.jface.viewers.ArrayContentProvider;
import org.eclipse.jface.viewers.ColumnLabelProvider;
import org.eclipse.jface.viewers.TableViewer;
import org.eclipse.jface.viewers.TableViewerColumn;
import org.eclipse.osgi.util.NLS;
import org.eclipse.swt.SWT;
import org.eclipse.swt.widgets.Composite;
import org.eclipse.swt.widgets.Control;
import org.eclipse.ui.IWorkbenchPage;
import org.eclipse.ui.PartInitException;

import io.hprobe.core.model.Alert;
import io.hprobe.core.model.ModelChange;
import io.hprobe.core.model.Vm;
import io.hprobe.ui.HProbeUi;
import io.hprobe.ui.Messages;
import io.hprobe.ui.internal.Format;

/**
 * Alerts of the selected VM's detectors, newest first, those in the Hit Timeline's range when it has one.
 * Double-click asks the views to go to the alert's moment (the timeline zooms there and selects the hit);
 * it does not talk to the timeline itself.
 */
public class AlertsView extends HProbeView {

    public static final String ID = "io.hprobe.ui.alerts"; //$NON-NLS-1$

    private @Nullable TableViewer viewer;

    @Override
    protected Control createContents(Composite parent) {
        TableViewer v = new TableViewer(parent, SWT.BORDER | SWT.FULL_SELECTION | SWT.SINGLE);
        viewer = v;
        v.getTable().setHeaderVisible(true);
        v.getTable().setLinesVisible(true);
        col(v, Messages.Alerts_time, 110, a -> {
            Vm vm = vm();
            return vm == null ? "" : Format.time(vm, a.timeNs()); //$NON-NLS-1$
        });
        col(v, Messages.Alerts_detector, 120, a -> "#" + a.detector() + " " + a.kind()); //$NON-NLS-1$ //$NON-NLS-2$
        col(v, Messages.Alerts_alert, 140, Alert::what);
        col(v, Messages.Alerts_process, 130,
                a -> a.pid() < 0 ? "" : (a.comm() == null ? "?" : a.comm()) + " (" + a.pid() + ")"); //$NON-NLS-1$ //$NON-NLS-2$ //$NON-NLS-3$ //$NON-NLS-4$
        col(v, Messages.Alerts_details, 400, a -> a.data().toString());
        v.setContentProvider(ArrayContentProvider.getInstance());
        v.addDoubleClickListener(e -> {
            if (((org.eclipse.jface.viewers.IStructuredSelection) e.getSelection())
                    .getFirstElement() instanceof Alert a) {
                jumpTo(a);
            }
        });
        getSite().setSelectionProvider(v);
        return v.getControl();
    }

    private interface Text {

        String of(Alert a);
    }

    private static void col(TableViewer v, String title, int width, Text text) {
        TableViewerColumn c = new TableViewerColumn(v, SWT.LEFT);
        c.getColumn().setText(title);
        c.getColumn().setWidth(width);
        c.setLabelProvider(ColumnLabelProvider.createTextProvider(o -> o instanceof Alert a ? text.of(a) : "")); //$NON-NLS-1$
    }

    /** Signals "go to this alert's moment" and brings the timeline forward. */
    private void jumpTo(Alert a) {
        Vm vm = vm();
        if (vm == null) {
            return;
        }
        // the hit that raised it: by journal seq, else by its time (the emergency detector gives hit_time_ns)
        long hitTime = io.hprobe.core.protocol.Json.lng(a.data(), "hit_time_ns", -1); //$NON-NLS-1$
        long index = a.seq() >= 0 ? vm.hits().indexOfSeq(a.seq()) : -1;
        if (index < 0 && hitTime > 0 && vm.hits().count() > 0 && vm.hits().isTimeSorted()) {
            long i = vm.hits().lowerBound(hitTime);
            index = i < vm.hits().size() && vm.hits().time(i) == hitTime ? i : -1;
        }
        long when = hitTime > 0 ? hitTime : a.timeNs();
        try {
            getSite().getPage().showView(HitTimelineView.ID, null, IWorkbenchPage.VIEW_VISIBLE);
        } catch (PartInitException e) {
            // the signal below still reaches the views that are open
        }
        HProbeUi.context().focusTime(vm, when, index);
    }

    @Override
    protected boolean followsTimeRange() {
        return true;
    }

    @Override
    protected boolean matters(ModelChange change) {
        return change.vm() == vm() && change.kind() == ModelChange.Kind.ALERTS;
    }

    @Override
    protected void refresh() {
        TableViewer v = viewer;
        if (v == null || v.getControl().isDisposed()) {
            return;
        }
        Vm vm = vm();
        List<Alert> alerts = vm == null ? new ArrayList<>() : new ArrayList<>(vm.alerts());
        if (ranged()) {
            alerts.removeIf(a -> a.timeNs() < rangeFrom() || a.timeNs() > rangeTo());
        }
        Collections.reverse(alerts);
        v.setInput(alerts);
        String text = vm == null
                ? Messages.Alerts_noVm
                : NLS.bind(Messages.Alerts_description, vm.name(), alerts.size());
        setContentDescription(inRange(text));
    }

    @Override
    public void setFocus() {
        TableViewer v = viewer;
        if (v != null) {
            v.getControl().setFocus();
        }
    }
}
