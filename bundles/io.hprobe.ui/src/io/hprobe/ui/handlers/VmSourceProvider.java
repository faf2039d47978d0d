package io.hprobe.ui.handlers;

import java.util.Map;

import org.eclipse.jdt.annotation.Nullable;
import org.eclipse.ui.AbstractSourceProvider;
import org.eclipse.ui.ISources;

import io.hprobe.core.model.Vm;
import io.hprobe.ui.HProbeUi;
import io.hprobe.ui.UiContext;

/**
 * The selected VM as a variable of the workbench's expressions, so that handlers declare when they apply
 * (plugin.xml, enabledWhen) and menus and keys are disabled instead of answering "no VM" in a dialog.
 */
public class VmSourceProvider extends AbstractSourceProvider implements UiContext.Listener {

    /** "none", "live" (an agent's VM: probes can be added) or "offline" (a saved journal). */
    public static final String VM = "io.hprobe.ui.vm"; //$NON-NLS-1$

    public VmSourceProvider() {
        HProbeUi.context().addListener(this);
    }

    static String state(@Nullable Vm vm) {
        return vm == null ? "none" : vm.isLive() ? "live" : "offline"; //$NON-NLS-1$ //$NON-NLS-2$ //$NON-NLS-3$
    }

    @Override
    public Map<String, String> getCurrentState() {
        return Map.of(VM, state(HProbeUi.context().vm()));
    }

    @Override
    public String[] getProvidedSourceNames() {
        return new String[]{ VM };
    }

    @Override
    public void vmSelected(@Nullable Vm vm) {
        fireSourceChanged(ISources.WORKBENCH, VM, state(vm));
    }

    @Override
    public void dispose() {
        HProbeUi.context().removeListener(this);
    }
}
