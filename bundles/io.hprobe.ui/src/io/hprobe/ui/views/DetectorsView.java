package io.hprobe.ui.views;

import java.util.List;

import org.eclipse.jdt.annotation.Nullable;
import org.eclipse.jface.action.Action;
import org.eclipse.jface.action.MenuManager;
import org.eclipse.jface.viewers.ArrayContentProvider;
import org.eclipse.jface.viewers.ColumnLabelProvider;
import org.eclipse.jface.viewers.ITreeContentProvider;
import org.eclipse.jface.viewers.TableViewer;
import org.eclipse.jface.viewers.TableViewerColumn;
import org.eclipse.jface.viewers.TreeViewer;
import org.eclipse.jface.viewers.TreeViewerColumn;
import org.eclipse.jface.window.Window;
import org.eclipse.osgi.util.NLS;
import org.eclipse.swt.SWT;
import org.eclipse.swt.custom.SashForm;
import org.eclipse.swt.widgets.Composite;
import org.eclipse.swt.widgets.Control;
import org.eclipse.ui.ISharedImages;
import org.eclipse.ui.PlatformUI;

import com.google.gson.JsonObject;

import io.hprobe.core.model.Agent;
import io.hprobe.core.model.Detector;
import io.hprobe.core.model.DetectorText;
import io.hprobe.core.model.DetectorText.Row;
import io.hprobe.core.model.ModelChange;
import io.hprobe.core.model.Vm;
import io.hprobe.ui.Messages;
import io.hprobe.ui.dialogs.DetectorDialog;
import io.hprobe.ui.internal.ById;
import io.hprobe.ui.internal.Jobs;

/**
 * The detectors of the selected VM, generic over their kind: each row is kind and configuration in words,
 * and the tree below shows the selected detector's live state (DETECTOR_STATE events) as labelled values
 * (DetectorText owns the words; a member it does not know still shows, by its name).
 */
public class DetectorsView extends HProbeView {

    public static final String ID = "io.hprobe.ui.detectors"; //$NON-NLS-1$

    private @Nullable TableViewer table;
    private @Nullable TreeViewer state;
    private int selectedId;

    @Override
    protected Control createContents(Composite parent) {
        SashForm sash = new SashForm(parent, SWT.VERTICAL);
        TableViewer t = new TableViewer(sash, SWT.BORDER | SWT.FULL_SELECTION | SWT.SINGLE);
        t.getTable().setHeaderVisible(true);
        t.getTable().setLinesVisible(true);
        col(t, Messages.Detectors_id, 35, d -> Integer.toString(d.id()));
        col(t, Messages.Detectors_kind, 80, Detector::kind);
        col(t, Messages.Detectors_alerts, 50, d -> Long.toString(d.alerts()));
        col(t, Messages.Detectors_state, 70,
                d -> d.enabled() ? Messages.Detectors_enabled : Messages.Detectors_disabled);
        col(t, Messages.Detectors_config, 420, DetectorText::config);
        t.setContentProvider(ArrayContentProvider.getInstance());
        t.setComparer(new ById<>(Detector.class, Detector::id)); // the selection outlives state updates
        t.addSelectionChangedListener(e -> {
            selectedId = e.getStructuredSelection().getFirstElement() instanceof Detector d ? d.id() : 0;
            showState();
        });
        table = t;
        TreeViewer s = new TreeViewer(sash, SWT.BORDER | SWT.FULL_SELECTION);
        s.getTree().setHeaderVisible(true);
        TreeViewerColumn k = new TreeViewerColumn(s, SWT.LEFT);
        k.getColumn().setText(Messages.Detectors_stateKey);
        k.getColumn().setWidth(200);
        k.setLabelProvider(ColumnLabelProvider.createTextProvider(o -> o instanceof Row r ? r.label() : "")); //$NON-NLS-1$
        TreeViewerColumn v = new TreeViewerColumn(s, SWT.LEFT);
        v.getColumn().setText(Messages.Detectors_stateValue);
        v.getColumn().setWidth(260);
        v.setLabelProvider(ColumnLabelProvider.createTextProvider(o -> o instanceof Row r ? r.value() : "")); //$NON-NLS-1$
        s.setContentProvider(new Rows());
        s.setAutoExpandLevel(3);
        state = s;
        sash.setWeights(55, 45);
        makeActions(t);
        return sash;
    }

    /** The live state's rows (DetectorText: labelled values) as a tree. */
    private static final class Rows implements ITreeContentProvider {

        @Override
        public Object[] getElements(@Nullable Object input) {
            return input instanceof Detector d ? DetectorText.state(d).toArray() : new Object[0];
        }

        @Override
        public Object[] getChildren(@Nullable Object parent) {
            return parent instanceof Row r ? r.children().toArray() : new Object[0];
        }

        @Override
        public @Nullable Object getParent(@Nullable Object element) {
            return null;
        }

        @Override
        public boolean hasChildren(@Nullable Object element) {
            return element instanceof Row r && !r.children().isEmpty();
        }
    }

    private interface Text {

        String of(Detector d);
    }

    private static void col(TableViewer v, String title, int width, Text text) {
        TableViewerColumn c = new TableViewerColumn(v, SWT.LEFT);
        c.getColumn().setText(title);
        c.getColumn().setWidth(width);
        c.setLabelProvider(ColumnLabelProvider.createTextProvider(o -> o instanceof Detector d ? text.of(d) : "")); //$NON-NLS-1$
    }

    /** The selected detector's Enable/Disable (the UI tests' way in; its text follows the selection). */
    private @Nullable Action toggleAction;

    public @Nullable Action toggleAction() {
        return toggleAction;
    }

    private void makeActions(TableViewer t) {
        Action add = new Action(Messages.Detectors_add) {

            @Override
            public void run() {
                Vm vm = vm();
                Agent a = vm == null ? null : vm.agent();
                if (vm == null || a == null) {
                    return;
                }
                DetectorDialog d = new DetectorDialog(getSite().getShell(), null, null);
                if (d.open() == Window.OK) {
                    String kind = d.kind();
                    JsonObject config = d.config();
                    Jobs.agent(NLS.bind(Messages.Job_detectorAdd, kind), () -> a.addDetector(vm, kind, config), null);
                }
            }
        };
        add.setImageDescriptor(
                PlatformUI.getWorkbench().getSharedImages().getImageDescriptor(ISharedImages.IMG_OBJ_ADD));
        Action reconfigure = new Action(Messages.Detectors_edit) {

            @Override
            public void run() {
                Vm vm = vm();
                Agent a = vm == null ? null : vm.agent();
                if (vm == null || a == null
                        || !(t.getStructuredSelection().getFirstElement() instanceof Detector old)) {
                    return;
                }
                // the protocol has no detector-update: a new config is a new detector replacing the old one
                DetectorDialog d = new DetectorDialog(getSite().getShell(), old.kind(), old.config());
                if (d.open() == Window.OK) {
                    String kind = d.kind();
                    JsonObject config = d.config();
                    Jobs.agent(NLS.bind(Messages.Job_detectorAdd, kind),
                            () -> a.addDetector(vm, kind, config).thenCompose(id -> a.removeDetector(vm, old.id())),
                            null);
                }
            }
        };
        Action toggle = new Action(Messages.Detectors_disable) {

            @Override
            public void run() {
                Vm vm = vm();
                Agent a = vm == null ? null : vm.agent();
                if (vm != null && a != null && t.getStructuredSelection().getFirstElement() instanceof Detector d) {
                    Jobs.agent(NLS.bind(d.enabled() ? Messages.Job_detectorDisable : Messages.Job_detectorEnable,
                            d.kind()), () -> a.enableDetector(vm, d.id(), !d.enabled()), null);
                }
            }
        };
        t.addSelectionChangedListener(
                e -> toggle.setText(e.getStructuredSelection().getFirstElement() instanceof Detector d && !d.enabled()
                        ? Messages.Detectors_enable
                        : Messages.Detectors_disable));
        Action remove = new Action(Messages.Detectors_remove) {

            @Override
            public void run() {
                Vm vm = vm();
                Agent a = vm == null ? null : vm.agent();
                if (vm != null && a != null && t.getStructuredSelection().getFirstElement() instanceof Detector d) {
                    Jobs.agent(NLS.bind(Messages.Job_detectorRemove, d.kind()), () -> a.removeDetector(vm, d.id()),
                            null);
                }
            }
        };
        remove.setImageDescriptor(
                PlatformUI.getWorkbench().getSharedImages().getImageDescriptor(ISharedImages.IMG_ETOOL_DELETE));
        getViewSite().getActionBars().getToolBarManager().add(add);
        getViewSite().getActionBars().getToolBarManager().add(remove);
        MenuManager m = new MenuManager();
        m.add(add);
        m.add(reconfigure);
        m.add(toggle);
        toggleAction = toggle;
        m.add(remove);
        t.getControl().setMenu(m.createContextMenu(t.getControl()));
        t.addDoubleClickListener(e -> reconfigure.run());
    }

    @Override
    protected boolean matters(ModelChange change) {
        return change.vm() == vm() && change.kind() == ModelChange.Kind.DETECTORS
                || change.kind() == ModelChange.Kind.VMS;
    }

    @Override
    protected int refreshPeriodMs() {
        return 250;
    }

    @Override
    protected void refresh() {
        TableViewer t = table;
        if (t == null || t.getControl().isDisposed()) {
            return;
        }
        Vm vm = vm();
        List<Detector> ds = vm == null ? List.of() : vm.detectors();
        t.setInput(ds);
        for (Detector d : ds) {
            if (d.id() == selectedId) {
                t.setSelection(new org.eclipse.jface.viewers.StructuredSelection(d));
            }
        }
        setContentDescription(vm == null
                ? Messages.Detectors_noVm
                : ds.isEmpty()
                        ? NLS.bind(Messages.Detectors_none, vm.name())
                        : NLS.bind(Messages.Detectors_description, vm.name(), ds.size()));
        showState();
    }

    private void showState() {
        TreeViewer s = state;
        Vm vm = vm();
        if (s == null || s.getControl().isDisposed()) {
            return;
        }
        Detector d = null;
        if (vm != null) {
            for (Detector x : vm.detectors()) {
                if (x.id() == selectedId) {
                    d = x;
                }
            }
        }
        s.setInput(d);
    }

    @Override
    public void setFocus() {
        TableViewer t = table;
        if (t != null) {
            t.getControl().setFocus();
        }
    }
}
