package io.hprobe.ui.views;

import java.util.ArrayList;
import java.util.List;

import org.eclipse.jdt.annotation.Nullable;
import org.eclipse.jface.action.Action;
import org.eclipse.jface.action.IMenuManager;
import org.eclipse.jface.action.IToolBarManager;
import org.eclipse.jface.action.MenuManager;
import org.eclipse.jface.action.Separator;
import org.eclipse.jface.dialogs.InputDialog;
import org.eclipse.jface.viewers.ColumnLabelProvider;
import org.eclipse.jface.viewers.ITreeContentProvider;
import org.eclipse.jface.viewers.TreeViewer;
import org.eclipse.jface.viewers.TreeViewerColumn;
import org.eclipse.jface.window.Window;
import org.eclipse.swt.SWT;
import org.eclipse.swt.widgets.Composite;
import org.eclipse.swt.widgets.Control;
import org.eclipse.swt.widgets.Display;
import org.eclipse.swt.widgets.Tree;
import org.eclipse.ui.ISharedImages;
import org.eclipse.ui.IWorkbenchPage;
import org.eclipse.ui.PartInitException;
import org.eclipse.ui.PlatformUI;

import io.hprobe.core.model.Agent;
import io.hprobe.core.model.GuestProcess;
import io.hprobe.core.model.HProbeModel;
import io.hprobe.core.model.LibvirtConnection;
import io.hprobe.core.model.ModelChange;
import io.hprobe.core.model.Vm;
import io.hprobe.ui.HProbeUi;
import io.hprobe.ui.Messages;
import io.hprobe.ui.dialogs.AttachDialog;
import io.hprobe.ui.dialogs.ConnectDialog;
import io.hprobe.ui.internal.ErrorDialogs;
import io.hprobe.ui.internal.Images;
import io.hprobe.ui.internal.VmActions;
import io.hprobe.ui.preferences.Prefs;
import io.hprobe.ui.views.LibvirtRows.DomainRow;

/**
 * Agents, their VMs (state, accelerator, vCPUs, kernel, where each comes from) and each VM's live process
 * list (vm-ps), plus journals opened offline. Under each agent, a libvirt node lists the domains of its
 * libvirt connection (the URI is a preference); a double-click on a running domain attaches it. Selecting a
 * VM makes it the VM every other view shows.
 */
public class VmBrowserView extends HProbeView {

    public static final String ID = "io.hprobe.ui.vmBrowser"; //$NON-NLS-1$
    private static final int PS_PERIOD_MS = 5000;

    private @Nullable TreeViewer viewer;
    private final List<Action> vmActions = new ArrayList<>();
    /** VMs and libvirt nodes opened once they had children to show: the user may close them again. */
    private final java.util.Set<Object> expandedOnce = java.util.Collections
            .newSetFromMap(new java.util.WeakHashMap<>());

    @Override
    protected Control createContents(Composite parent) {
        TreeViewer v = new TreeViewer(parent, SWT.SINGLE | SWT.FULL_SELECTION | SWT.H_SCROLL | SWT.V_SCROLL);
        viewer = v;
        Tree tree = v.getTree();
        tree.setHeaderVisible(true);
        tree.setLinesVisible(true);
        column(v, Messages.VmBrowser_name, 260, this::name);
        column(v, Messages.VmBrowser_state, 85, this::state);
        column(v, Messages.VmBrowser_accel, 50, e -> e instanceof Vm vm ? vm.info().accel() : ""); //$NON-NLS-1$
        column(v, Messages.VmBrowser_cpus, 55,
                e -> e instanceof Vm vm && vm.info().smp() > 0 ? Integer.toString(vm.info().smp()) : ""); //$NON-NLS-1$
        column(v, Messages.VmBrowser_kernel, 260, this::details);
        column(v, Messages.VmBrowser_source, 260, LibvirtRows::source);
        org.eclipse.jface.viewers.ColumnViewerToolTipSupport.enableFor(v); // an agent's or libvirt's error
        v.setContentProvider(new Content());
        v.setInput(HProbeUi.model());
        v.setAutoExpandLevel(2);
        v.addSelectionChangedListener(e -> {
            Vm vm = selectedVm();
            if (vm != null) {
                HProbeUi.context().selectVm(vm);
                VmActions.refreshProcessesQuietly(vm);
            }
            updateActions();
        });
        v.addDoubleClickListener(e -> {
            DomainRow row = selectedDomain();
            if (row != null) {
                openDomain(row);
                return;
            }
            Vm vm = selectedVm();
            if (vm != null && vm.isLive()) {
                openConsole();
            }
        });
        FileDrop.install(v);
        getSite().setSelectionProvider(v);
        makeActions();
        HProbeUi.localAgent();
        schedulePs(tree.getDisplay());
        return tree;
    }

    private interface Text {

        String of(Object element);
    }

    private static void column(TreeViewer v, String title, int width, Text text) {
        TreeViewerColumn c = new TreeViewerColumn(v, SWT.LEFT);
        c.getColumn().setText(title);
        c.getColumn().setWidth(width);
        c.getColumn().setMoveable(true);
        c.setLabelProvider(new ColumnLabelProvider() {

            @Override
            public String getText(@Nullable Object element) {
                return element == null ? "" : text.of(element); //$NON-NLS-1$
            }

            @Override
            public @Nullable String getToolTipText(@Nullable Object element) {
                if (element instanceof Agent a && a.lastError() != null) {
                    return a.lastError();
                }
                if (element instanceof LibvirtConnection c) {
                    return LibvirtRows.toolTip(c);
                }
                return element instanceof Vm vm ? vm.info().reason() : null;
            }
        });
    }

    private String name(Object e) {
        if (e instanceof Agent a) {
            String version = a.info().has("version") ? a.info().get("version").getAsString() : ""; //$NON-NLS-1$ //$NON-NLS-2$
            io.hprobe.core.model.SshTunnel t = a.tunnel();
            return t == null
                    ? org.eclipse.osgi.util.NLS.bind(Messages.VmBrowser_agent, version)
                    : org.eclipse.osgi.util.NLS.bind(Messages.VmBrowser_remoteAgent, version, t.destination());
        }
        if (e instanceof Vm vm) {
            return vm.isLive() || vm.agent() != null
                    ? vm.name()
                    : org.eclipse.osgi.util.NLS.bind(Messages.VmBrowser_journal, vm.name());
        }
        if (e instanceof GuestProcess p) {
            return p.kernel() ? "[" + p.comm() + "] (" + p.pid() + ")" : p.label(); //$NON-NLS-1$ //$NON-NLS-2$ //$NON-NLS-3$
        }
        String libvirt = LibvirtRows.name(e);
        return libvirt != null ? libvirt : String.valueOf(e);
    }

    /** Kernel of a VM, socket of an agent, parent and cr3 of a process. */
    private String details(Object e) {
        if (e instanceof Agent a) {
            return a.target();
        }
        if (e instanceof Vm vm) {
            return vm.info().kernel();
        }
        if (e instanceof GuestProcess p) {
            return org.eclipse.osgi.util.NLS.bind(Messages.VmBrowser_processDetails, p.ppid(),
                    io.hprobe.ui.internal.Format.hex(p.cr3()));
        }
        String libvirt = LibvirtRows.details(e);
        return libvirt != null ? libvirt : ""; //$NON-NLS-1$
    }

    private String state(Object e) {
        if (e instanceof Agent a) {
            switch (a.state()) {
                case CONNECTED :
                    return Messages.VmBrowser_connected;
                case CONNECTING :
                    return Messages.VmBrowser_connecting;
                default :
                    return Messages.VmBrowser_disconnected;
            }
        }
        if (e instanceof Vm vm) {
            return vm.isGone() ? Messages.VmBrowser_gone : vm.info().state();
        }
        if (e instanceof GuestProcess p) {
            return p.state();
        }
        String libvirt = LibvirtRows.state(e);
        return libvirt != null ? libvirt : ""; //$NON-NLS-1$
    }

    private static final class Content implements ITreeContentProvider {

        @Override
        public Object[] getElements(@Nullable Object input) {
            if (!(input instanceof HProbeModel m)) {
                return new Object[0];
            }
            List<Object> roots = new ArrayList<>(m.agents());
            roots.addAll(m.offlineVms());
            return roots.toArray();
        }

        @Override
        public Object[] getChildren(@Nullable Object parent) {
            if (parent instanceof Agent a) {
                List<Object> children = new ArrayList<>(a.vms());
                children.add(a.libvirt());
                return children.toArray();
            }
            if (parent instanceof LibvirtConnection c) {
                return LibvirtRows.children(c);
            }
            if (parent instanceof Vm vm) {
                // the guest's own processes first, kernel threads after them
                List<GuestProcess> ps = new ArrayList<>(vm.processes());
                ps.sort(java.util.Comparator.comparing(GuestProcess::kernel).thenComparingInt(GuestProcess::pid));
                return ps.toArray();
            }
            return new Object[0];
        }

        @Override
        public @Nullable Object getParent(@Nullable Object element) {
            // lets setSelection reveal a VM under its agent, a domain under its libvirt node
            if (element instanceof LibvirtConnection c) {
                return c.agent();
            }
            if (element instanceof DomainRow r) {
                return r.connection;
            }
            return element instanceof Vm vm ? vm.agent() : null;
        }

        @Override
        public boolean hasChildren(@Nullable Object element) {
            if (element instanceof Agent) {
                return true; // its libvirt node at least
            }
            if (element instanceof LibvirtConnection c) {
                return !c.domains().isEmpty();
            }
            return element instanceof Vm vm && !vm.processes().isEmpty();
        }
    }

    @Override
    protected boolean matters(ModelChange change) {
        return change.kind() != ModelChange.Kind.HITS && change.kind() != ModelChange.Kind.CONSOLE
                && change.kind() != ModelChange.Kind.PROBES;
    }

    @Override
    protected void refresh() {
        TreeViewer v = viewer;
        if (v != null && !v.getControl().isDisposed()) {
            v.refresh(true);
            expandLibvirtNodes(v);
            selectFirstVmIfNone();
            Vm vm = vm();
            if (vm != null && !vm.processes().isEmpty() && expandedOnce.add(vm)) {
                v.setExpandedState(vm, true); // the selected VM shows its processes; the user may close it
            }
            updateActions();
        }
    }

    /** A libvirt node opens the first time it has domains to show; after that it stays as the user leaves it. */
    private void expandLibvirtNodes(TreeViewer v) {
        for (Agent a : HProbeUi.model().agents()) {
            LibvirtConnection c = a.libvirt();
            if (!c.domains().isEmpty() && expandedOnce.add(c)) {
                v.setExpandedState(a, true);
                v.setExpandedState(c, true);
            }
        }
    }

    /** A researcher opening the workbench on an agent that already monitors a VM sees
     * that VM (its probes, live hits) at once, instead of an empty workbench. */
    private void selectFirstVmIfNone() {
        if (vm() != null) {
            return;
        }
        for (Agent a : HProbeUi.model().agents()) {
            for (Vm candidate : a.vms()) {
                HProbeUi.context().selectVm(candidate);
                return;
            }
        }
    }

    /** The VM of the selection (a VM row or one of its processes). */
    private @Nullable Vm selectedVm() {
        TreeViewer v = viewer;
        if (v == null) {
            return null;
        }
        Object o = v.getStructuredSelection().getFirstElement();
        if (o instanceof Vm vm) {
            return vm;
        }
        if (o instanceof GuestProcess) {
            Object parent = v.getTree().getSelection().length > 0
                    && v.getTree().getSelection()[0].getParentItem() != null
                            ? v.getTree().getSelection()[0].getParentItem().getData()
                            : null;
            return parent instanceof Vm vm ? vm : null;
        }
        return null;
    }

    private @Nullable DomainRow selectedDomain() {
        TreeViewer v = viewer;
        return v != null && v.getStructuredSelection().getFirstElement() instanceof DomainRow r ? r : null;
    }

    /** The libvirt connection of the selection (its node or one of its domains), else the selected agent's. */
    private @Nullable LibvirtConnection selectedLibvirt() {
        TreeViewer v = viewer;
        Object o = v == null ? null : v.getStructuredSelection().getFirstElement();
        if (o instanceof LibvirtConnection c) {
            return c;
        }
        if (o instanceof DomainRow r) {
            return r.connection;
        }
        Agent a = selectedAgent();
        return a == null ? null : a.libvirt();
    }

    /** A double-click on a domain: attach a running one, show the VM of an attached one. */
    private void openDomain(DomainRow row) {
        if (row.domain.canAttach() && !row.connection.isAttaching(row.domain)) {
            VmActions.attachLibvirt(row.connection, row.domain, true);
            return;
        }
        Vm vm = row.connection.vmOf(row.domain);
        if (vm != null) {
            HProbeUi.context().selectVm(vm);
        }
    }

    private void attachSelectedDomain(boolean plugin) {
        DomainRow r = selectedDomain();
        if (r != null && r.domain.canAttach()) {
            VmActions.attachLibvirt(r.connection, r.domain, plugin);
        }
    }

    private void setLibvirtUri(LibvirtConnection c) {
        InputDialog d = new InputDialog(getSite().getShell(), Messages.VmBrowser_libvirtUriTitle,
                Messages.VmBrowser_libvirtUriMessage, c.uri(), null);
        if (d.open() == Window.OK) {
            // the preference remembers it; every agent's libvirt node follows (HProbeUi.preferenceChanged)
            Prefs.store().setValue(Prefs.LIBVIRT_URI, d.getValue().trim());
            VmActions.refreshLibvirt(c);
        }
    }

    private @Nullable Agent selectedAgent() {
        TreeViewer v = viewer;
        Object o = v == null ? null : v.getStructuredSelection().getFirstElement();
        if (o instanceof Agent a) {
            return a;
        }
        if (o instanceof LibvirtConnection c) {
            return c.agent();
        }
        if (o instanceof DomainRow r) {
            return r.connection.agent();
        }
        Vm vm = selectedVm();
        return vm == null ? null : vm.agent();
    }

    private void schedulePs(Display display) {
        display.timerExec(PS_PERIOD_MS, () -> {
            TreeViewer v = viewer;
            if (v == null || v.getControl().isDisposed()) {
                return;
            }
            Vm vm = vm();
            if (vm != null && getSite().getPage().isPartVisible(this)) {
                VmActions.refreshProcessesQuietly(vm);
            }
            schedulePs(display);
        });
    }

    private static org.eclipse.jface.resource.ImageDescriptor shared(String name) {
        return PlatformUI.getWorkbench().getSharedImages().getImageDescriptor(name);
    }

    private Action action(String text, String tip, org.eclipse.jface.resource.@Nullable ImageDescriptor image,
            Runnable run, boolean needsVm) {
        Action a = new Action(text) {

            @Override
            public void run() {
                run.run();
            }
        };
        a.setToolTipText(tip);
        if (image != null) {
            a.setImageDescriptor(image);
        }
        if (needsVm) {
            vmActions.add(a);
        }
        return a;
    }

    private void makeActions() {
        Action connect = action(Messages.VmBrowser_connect, Messages.VmBrowser_connectTip,
                shared(ISharedImages.IMG_OBJ_ADD), this::connectAgent, false);
        Action launchLab = action(Messages.VmBrowser_launch, Messages.VmBrowser_launchTip, Images.own("launch"), //$NON-NLS-1$
                () -> VmActions.launchLab(selectedAgent()), false);
        Action attach = action(Messages.VmBrowser_attach, Messages.VmBrowser_attachTip, null, () -> {
            AttachDialog d = new AttachDialog(getSite().getShell());
            if (d.open() == Window.OK) {
                VmActions.attach(selectedAgent(), d.options());
            }
        }, false);
        Action detach = action(Messages.VmBrowser_detach, Messages.VmBrowser_detachTip, null,
                () -> withVm(VmActions::detach), true);
        Action pause = action(Messages.VmBrowser_pause, Messages.VmBrowser_pauseTip, null,
                () -> withVm(VmActions::pause), true);
        Action resume = action(Messages.VmBrowser_resume, Messages.VmBrowser_resumeTip, null,
                () -> withVm(VmActions::resume), true);
        Action quit = action(Messages.VmBrowser_quit, Messages.VmBrowser_quitTip, shared(ISharedImages.IMG_ELCL_STOP),
                () -> withVm(VmActions::quit), true);
        Action console = action(Messages.VmBrowser_console, Messages.VmBrowser_consoleTip, Images.own("console"), //$NON-NLS-1$
                this::openConsole, true);
        Action ps = action(Messages.VmBrowser_ps, Messages.VmBrowser_psTip,
                Images.platform("icons/full/elcl16/refresh_nav.svg"), () -> withVm(VmActions::refreshProcessesQuietly), //$NON-NLS-1$
                true);
        Action close = action(Messages.VmBrowser_close, Messages.VmBrowser_closeTip,
                shared(ISharedImages.IMG_ELCL_REMOVE), () -> {
                    Vm vm = selectedVm();
                    if (vm != null && vm.agent() == null) {
                        HProbeUi.model().removeOffline(vm);
                    }
                }, true);
        Action attachDomain = action(Messages.VmBrowser_attachDomain, Messages.VmBrowser_attachDomainTip, null,
                () -> attachSelectedDomain(true), false);
        Action attachNoPlugin = action(Messages.VmBrowser_attachDomainNoPlugin,
                Messages.VmBrowser_attachDomainNoPluginTip, null, () -> attachSelectedDomain(false), false);
        Action showVm = action(Messages.VmBrowser_showVm, Messages.VmBrowser_showVmTip, null, () -> {
            DomainRow r = selectedDomain();
            if (r != null) {
                openDomain(r);
            }
        }, false);
        Action refreshLibvirt = action(Messages.VmBrowser_refreshLibvirt, Messages.VmBrowser_refreshLibvirtTip,
                Images.platform("icons/full/elcl16/refresh_nav.svg"), () -> { //$NON-NLS-1$
                    LibvirtConnection c = selectedLibvirt();
                    VmActions.refreshLibvirt(c != null ? c : HProbeUi.localAgent().libvirt());
                }, false);
        Action libvirtUri = action(Messages.VmBrowser_libvirtUri, Messages.VmBrowser_libvirtUriTip, null, () -> {
            LibvirtConnection c = selectedLibvirt();
            setLibvirtUri(c != null ? c : HProbeUi.localAgent().libvirt());
        }, false);
        IToolBarManager tb = getViewSite().getActionBars().getToolBarManager();
        tb.add(launchLab);
        tb.add(connect);
        tb.add(console);
        tb.add(quit);
        tb.add(refreshLibvirt);
        MenuManager menu = new MenuManager();
        menu.setRemoveAllWhenShown(true);
        menu.addMenuListener(m -> {
            Vm vm = selectedVm();
            DomainRow domain = selectedDomain();
            if (domain != null) {
                boolean can = domain.domain.canAttach() && !domain.connection.isAttaching(domain.domain);
                attachDomain.setEnabled(can);
                attachNoPlugin.setEnabled(can);
                m.add(attachDomain);
                m.add(attachNoPlugin);
                if (domain.domain.isAttached()) {
                    m.add(showVm);
                }
                m.add(refreshLibvirt);
                m.add(new Separator());
            } else if (selectedLibvirtRow() != null) {
                m.add(refreshLibvirt);
                m.add(libvirtUri);
                m.add(new Separator());
            }
            m.add(launchLab);
            m.add(attach);
            m.add(connect);
            if (vm != null && vm.isLive()) {
                m.add(new Separator());
                m.add(console);
                m.add(ps);
                m.add(vm.info().isPaused() ? resume : pause);
                m.add(detach);
                if (vm.info().launched()) {
                    m.add(quit);
                }
            } else if (vm != null) {
                m.add(new Separator());
                m.add(close);
            } else if (selectedAgentRow() != null) {
                m.add(new Separator());
                m.add(action(Messages.VmBrowser_reconnect, Messages.VmBrowser_reconnectTip, null, () -> {
                    Agent a = selectedAgentRow();
                    if (a != null) {
                        HProbeUi.connect(a);
                    }
                }, false));
            }
        });
        TreeViewer v = viewer;
        if (v != null) {
            v.getControl().setMenu(menu.createContextMenu(v.getControl()));
            getSite().registerContextMenu(menu, v);
        }
        IMenuManager viewMenu = getViewSite().getActionBars().getMenuManager();
        viewMenu.add(attach);
        viewMenu.add(console);
        viewMenu.add(new Separator());
        viewMenu.add(refreshLibvirt);
        viewMenu.add(libvirtUri);
        updateActions();
    }

    private @Nullable LibvirtConnection selectedLibvirtRow() {
        TreeViewer v = viewer;
        return v != null && v.getStructuredSelection().getFirstElement() instanceof LibvirtConnection c ? c : null;
    }

    private @Nullable Agent selectedAgentRow() {
        TreeViewer v = viewer;
        return v != null && v.getStructuredSelection().getFirstElement() instanceof Agent a ? a : null;
    }

    private void withVm(java.util.function.Consumer<Vm> f) {
        Vm vm = selectedVm();
        if (vm == null) {
            vm = vm();
        }
        if (vm != null) {
            f.accept(vm);
        }
    }

    private void updateActions() {
        Vm vm = selectedVm();
        for (Action a : vmActions) {
            boolean quit = a.getText().equals(Messages.VmBrowser_quit);
            a.setEnabled(vm != null && (vm.isLive() || a.getText().equals(Messages.VmBrowser_close))
                    && (!quit || vm.info().launched())); // an attached guest is not ours to power off
        }
    }

    private void connectAgent() {
        ConnectDialog d = new ConnectDialog(getSite().getShell());
        if (d.open() == Window.OK) {
            HProbeUi.addAgent(d.target(), d.startIfAbsent());
        }
    }

    private void openConsole() {
        try {
            getSite().getPage().showView(ConsoleView.ID, null, IWorkbenchPage.VIEW_ACTIVATE);
        } catch (PartInitException e) {
            ErrorDialogs.show(getSite().getShell(), Messages.VmBrowser_console, e);
        }
    }

    @Override
    public void vmSelected(@Nullable Vm vm) {
        // the VM may have been chosen elsewhere (a launch, an opened journal): show it selected here too
        TreeViewer v = viewer;
        if (v != null && vm != null && selectedVm() != vm) {
            v.refresh(true);
            Agent a = vm.agent();
            if (a != null) {
                v.setExpandedState(a, true);
            }
            v.setSelection(new org.eclipse.jface.viewers.StructuredSelection(vm), true);
            // opened once, like refresh() does: a VM the user folded stays folded when chosen again
            if (!vm.processes().isEmpty() && expandedOnce.add(vm)) {
                v.setExpandedState(vm, true);
            }
        }
        if (vm != null) {
            VmActions.refreshProcessesQuietly(vm);
        }
        requestRefresh();
    }

    @Override
    public void setFocus() {
        TreeViewer v = viewer;
        if (v != null) {
            v.getControl().setFocus();
        }
    }
}
