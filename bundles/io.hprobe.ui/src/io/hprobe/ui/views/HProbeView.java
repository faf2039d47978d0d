package io.hprobe.ui.views;

import org.eclipse.jdt.annotation.Nullable;
import org.eclipse.osgi.util.NLS;
import org.eclipse.swt.widgets.Composite;
import org.eclipse.swt.widgets.Control;
import org.eclipse.ui.IMemento;
import org.eclipse.ui.IViewSite;
import org.eclipse.ui.PartInitException;
import org.eclipse.ui.part.ViewPart;

import io.hprobe.core.model.ModelChange;
import io.hprobe.core.model.ModelListener;
import io.hprobe.core.model.Vm;
import io.hprobe.ui.HProbeUi;
import io.hprobe.ui.Messages;
import io.hprobe.ui.UiContext;
import io.hprobe.ui.internal.ColumnWidths;
import io.hprobe.ui.internal.Throttle;

/**
 * Common wiring of the HProbe views: they follow the context's VM, listen to the model (coalesced into
 * one refresh per period on the UI thread), and unhook everything when disposed. Subclasses only build
 * widgets and say which changes matter.
 */
public abstract class HProbeView extends ViewPart implements UiContext.Listener {

    private @Nullable Throttle throttle;
    private final ModelListener modelListener = this::modelChangedAnyThread;
    /** The Hit Timeline's range of the shown VM, [from, to] host ns; UiContext.ALL: none. */
    private long rangeFrom = UiContext.ALL, rangeTo = UiContext.ALL;
    private @Nullable IMemento memento;
    private @Nullable Control top;

    @Override
    public void init(IViewSite site, @Nullable IMemento m) throws PartInitException {
        super.init(site, m);
        memento = m;
    }

    @Override
    public final void createPartControl(Composite parent) {
        Control contents = createContents(parent);
        top = contents;
        ColumnWidths.restore(contents, memento); // as the user left them at the last exit
        memento = null;
        throttle = new Throttle(contents, refreshPeriodMs(), this::refresh);
        HProbeUi.model().addListener(modelListener);
        HProbeUi.context().addListener(this);
        vmSelected(HProbeUi.context().vm());
    }

    /** Builds the widgets; returns the top control (its disposal ends the refreshes). */
    protected abstract Control createContents(Composite parent);

    /** Re-reads what the view shows from the model (UI thread). */
    protected abstract void refresh();

    /** Whether a change is one this view shows (any thread: keep it cheap). */
    protected boolean matters(ModelChange change) {
        Vm vm = HProbeUi.context().vm();
        return change.vm() == null || change.vm() == vm;
    }

    /** Whether a change is to the shown VM's hits or probes: what the hit views draw. */
    protected final boolean hitsOrProbes(ModelChange change) {
        return change.vm() == vm()
                && (change.kind() == ModelChange.Kind.HITS || change.kind() == ModelChange.Kind.PROBES);
    }

    protected int refreshPeriodMs() {
        return 200;
    }

    /** The VM the views show, or null. */
    protected @Nullable Vm vm() {
        return HProbeUi.context().vm();
    }

    /**
     * Runs read every ms on the UI thread while top lives: for what the agent does not push (aggregations,
     * counters), read on a timer.
     */
    protected static void pollEvery(Control top, int ms, Runnable read) {
        top.getDisplay().timerExec(ms, () -> {
            if (!top.isDisposed()) {
                read.run();
                pollEvery(top, ms, read);
            }
        });
    }

    /** Asks for a coalesced refresh (any thread). */
    protected final void requestRefresh() {
        Throttle t = throttle;
        if (t != null) {
            t.request();
        }
    }

    private void modelChangedAnyThread(ModelChange change) {
        if (matters(change)) {
            requestRefresh();
        }
    }

    @Override
    public void vmSelected(@Nullable Vm vm) {
        rangeFrom = rangeTo = UiContext.ALL;
        requestRefresh();
    }

    /**
     * Whether the view follows the Hit Timeline's range (Trace Compass's linked time range): a new range
     * refreshes it, and {@link #ranged()} and the bounds say what it is. The timeline itself does not.
     */
    protected boolean followsTimeRange() {
        return false;
    }

    @Override
    public void timeRange(Vm vm, long fromNs, long toNs) {
        if (followsTimeRange() && vm == vm()) {
            rangeFrom = fromNs;
            rangeTo = toNs;
            requestRefresh();
        }
    }

    /** Whether the Hit Timeline shows a range of the VM (not every hit). */
    protected final boolean ranged() {
        return rangeFrom != UiContext.ALL;
    }

    /** The range's start, host ns (only when {@link #ranged()}). */
    protected final long rangeFrom() {
        return rangeFrom;
    }

    /** The range's end, host ns (only when {@link #ranged()}). */
    protected final long rangeTo() {
        return rangeTo;
    }

    /** A view's figures, said to be the range's when it has one. */
    protected final String inRange(String text) {
        return ranged() ? NLS.bind(Messages.View_inRange, text) : text;
    }

    @Override
    public void saveState(IMemento m) {
        super.saveState(m);
        Control t = top;
        if (t != null && !t.isDisposed()) {
            ColumnWidths.save(t, m);
        }
    }

    @Override
    public void dispose() {
        HProbeUi.model().removeListener(modelListener);
        HProbeUi.context().removeListener(this);
        super.dispose();
    }
}
