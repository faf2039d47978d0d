package io.hprobe.ui.views;

import java.util.List;

import org.eclipse.jdt.annotation.Nullable;
import org.eclipse.jface.action.Action;
import org.eclipse.jface.action.MenuManager;
import org.eclipse.jface.viewers.ArrayContentProvider;
import org.eclipse.jface.viewers.CheckboxTableViewer;
import org.eclipse.jface.viewers.ColumnLabelProvider;
import org.eclipse.jface.viewers.TableViewerColumn;
import org.eclipse.osgi.util.NLS;
import org.eclipse.swt.SWT;
import org.eclipse.swt.widgets.Composite;
import org.eclipse.swt.widgets.Control;
import org.eclipse.ui.ISharedImages;
import org.eclipse.ui.PlatformUI;
import org.eclipse.ui.actions.ActionFactory;
import org.eclipse.ui.operations.UndoRedoActionGroup;

import io.hprobe.core.model.Agent;
import io.hprobe.core.model.ModelChange;
import io.hprobe.core.model.Probe;
import io.hprobe.core.model.Vm;
import io.hprobe.ui.Messages;
import io.hprobe.ui.internal.ById;
import io.hprobe.ui.internal.Format;
import io.hprobe.ui.internal.Jobs;
import io.hprobe.ui.operations.Operations;
import io.hprobe.ui.operations.RemoveProbeOperation;

/**
 * The probes of the selected VM with their live hit counts; the checkbox enables and disables a probe at
 * run time (a disabled probe leaves no breakpoint), Delete removes it, and Edit > Undo brings it back.
 */
public class ProbesView extends HProbeView {

    public static final String ID = "io.hprobe.ui.probes"; //$NON-NLS-1$

    private @Nullable CheckboxTableViewer viewer;

    @Override
    protected Control createContents(Composite parent) {
        CheckboxTableViewer v = CheckboxTableViewer.newCheckList(parent, SWT.BORDER | SWT.FULL_SELECTION | SWT.MULTI);
        viewer = v;
        v.getTable().setHeaderVisible(true);
        v.getTable().setLinesVisible(true);
        column(v, Messages.Probes_enabled, 75, p -> ""); //$NON-NLS-1$
        column(v, Messages.Probes_id, 40, p -> Integer.toString(p.id()));
        column(v, Messages.Probes_probe, 220, Probe::label);
        column(v, Messages.Probes_address, 140, p -> Format.hex(p.addr()));
        column(v, Messages.Probes_hits, 80, p -> Long.toString(p.hits()));
        column(v, Messages.Probes_state, 70, Probe::state);
        column(v, Messages.Probes_kind, 60, Probe::kind);
        column(v, Messages.Probes_filter, 120, Probe::filterText);
        column(v, Messages.Probes_capture, 120, ProbesView::captures);
        column(v, Messages.Probes_mechanism, 80, Probe::mechanism);
        v.setContentProvider(ArrayContentProvider.getInstance());
        v.setComparer(new ById<>(Probe.class, Probe::id)); // the selection outlives hit count updates
        v.setCheckStateProvider(new org.eclipse.jface.viewers.ICheckStateProvider() {

            @Override
            public boolean isChecked(@Nullable Object element) {
                return element instanceof Probe p && p.enabled();
            }

            @Override
            public boolean isGrayed(@Nullable Object element) {
                return element instanceof Probe p && p.detector() != 0;
            }
        });
        v.addCheckStateListener(e -> {
            if (e.getElement() instanceof Probe p) {
                setEnabled(p, e.getChecked());
            }
        });
        getSite().setSelectionProvider(v);
        makeActions(v);
        return v.getControl();
    }

    private interface Text {

        String of(Probe p);
    }

    private static void column(CheckboxTableViewer v, String title, int width, Text text) {
        TableViewerColumn c = new TableViewerColumn(v, SWT.LEFT);
        c.getColumn().setText(title);
        c.getColumn().setWidth(width);
        c.getColumn().setMoveable(true);
        c.setLabelProvider(new ColumnLabelProvider() {

            @Override
            public String getText(@Nullable Object element) {
                return element instanceof Probe p ? text.of(p) : ""; //$NON-NLS-1$
            }

            @Override
            public @Nullable String getToolTipText(@Nullable Object element) {
                return element instanceof Probe p ? p.spec() + (p.reason() != null ? "\n" + p.reason() : "") : null; //$NON-NLS-1$ //$NON-NLS-2$
            }
        });
    }

    private static String captures(Probe p) {
        StringBuilder b = new StringBuilder();
        if (p.args() > 0) {
            b.append(NLS.bind(Messages.Probes_args, p.args()));
        }
        String mem = p.mem();
        if (mem != null) {
            b.append(b.length() > 0 ? ", " : "").append(mem); //$NON-NLS-1$ //$NON-NLS-2$
        }
        if (p.regs()) {
            b.append(b.length() > 0 ? ", " : "").append(Messages.Probes_regs); //$NON-NLS-1$ //$NON-NLS-2$
        }
        return b.toString();
    }

    private void makeActions(CheckboxTableViewer v) {
        Action rm = new Action(Messages.Probes_remove) {

            @Override
            public void run() {
                Vm vm = vm();
                if (vm == null) {
                    return;
                }
                for (Object o : v.getStructuredSelection().toList()) {
                    if (o instanceof Probe p) {
                        Operations.execute(new RemoveProbeOperation(vm, p));
                    }
                }
            }
        };
        rm.setImageDescriptor(
                PlatformUI.getWorkbench().getSharedImages().getImageDescriptor(ISharedImages.IMG_ETOOL_DELETE));
        rm.setToolTipText(Messages.Probes_removeTip);
        Action refresh = new Action(Messages.Probes_refresh) {

            @Override
            public void run() {
                Vm vm = vm();
                Agent a = vm == null ? null : vm.agent();
                if (vm != null && a != null) {
                    Jobs.agent(Messages.Probes_refresh, () -> a.refreshProbes(vm), null);
                }
            }
        };
        getViewSite().getActionBars().getToolBarManager().add(rm);
        getViewSite().getActionBars().setGlobalActionHandler(ActionFactory.DELETE.getId(), rm);
        new UndoRedoActionGroup(getSite(), PlatformUI.getWorkbench().getOperationSupport().getUndoContext(), true)
                .fillActionBars(getViewSite().getActionBars());
        MenuManager menu = new MenuManager();
        menu.add(rm);
        menu.add(refresh);
        v.getControl().setMenu(menu.createContextMenu(v.getControl()));
        v.addSelectionChangedListener(e -> {
            Vm vm = vm();
            rm.setEnabled(!e.getStructuredSelection().isEmpty() && vm != null && vm.isLive());
        });
        rm.setEnabled(false);
    }

    /** Enables or disables a probe in the agent (the checkbox). */
    private void setEnabled(Probe p, boolean enabled) {
        Vm vm = vm();
        Agent a = vm == null ? null : vm.agent();
        if (vm == null || a == null) {
            requestRefresh(); // offline: the box snaps back
            return;
        }
        Jobs.agent(NLS.bind(enabled ? Messages.Job_enable : Messages.Job_disable, p.label()),
                () -> a.setProbeEnabled(vm, p.id(), enabled), null);
    }

    @Override
    protected boolean matters(ModelChange change) {
        return change.vm() == vm() && change.kind() == ModelChange.Kind.PROBES || change.kind() == ModelChange.Kind.VMS;
    }

    @Override
    protected void refresh() {
        CheckboxTableViewer v = viewer;
        if (v == null || v.getControl().isDisposed()) {
            return;
        }
        Vm vm = vm();
        List<Probe> probes = vm == null ? List.of() : vm.probes();
        v.setInput(probes);
        setContentDescription(vm == null
                ? Messages.Probes_noVm
                : NLS.bind(Messages.Probes_description,
                        new Object[]{ vm.name(), probes.size(), probes.stream().mapToLong(Probe::hits).sum() }));
    }

    @Override
    public void setFocus() {
        CheckboxTableViewer v = viewer;
        if (v != null) {
            v.getControl().setFocus();
        }
    }
}
