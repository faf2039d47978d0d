package io.hprobe.ui.internal;

import org.eclipse.core.runtime.IAdapterFactory;
import org.eclipse.jdt.annotation.Nullable;
import org.eclipse.ui.views.properties.IPropertySource;

import io.hprobe.core.model.Probe;
import io.hprobe.core.model.Vm;
import io.hprobe.core.model.VmInfo;
import io.hprobe.ui.Messages;

/**
 * VMs and probes in the Properties view (plugin.xml registers this for both): what the agent reports of
 * them, as labelled rows. Hits have their own, {@link HitPropertySource}.
 */
public class ModelPropertySources implements IAdapterFactory {

    @Override
    public <T> T getAdapter(@Nullable Object adaptable, @Nullable Class<T> type) {
        if (type == IPropertySource.class && adaptable instanceof Vm vm) {
            return type.cast(vm(vm));
        }
        if (type == IPropertySource.class && adaptable instanceof Probe p) {
            return type.cast(probe(p));
        }
        return nothing();
    }

    @SuppressWarnings("null") // IAdapterFactory's contract: null when there is no adapter of that type
    private static <T> T nothing() {
        return null;
    }

    @Override
    public Class<?>[] getAdapterList() {
        return new Class<?>[]{ IPropertySource.class };
    }

    private static IPropertySource vm(Vm vm) {
        VmInfo i = vm.info();
        String c = Messages.Props_vm;
        RowsPropertySource r = new RowsPropertySource();
        r.add(c, Messages.Props_name, i.name());
        r.add(c, Messages.Props_state, i.state());
        r.add(c, Messages.Props_reason, i.reason());
        r.add(c, Messages.Props_accel, i.accel().isEmpty() ? null : i.accel());
        r.add(c, Messages.Props_vcpus, i.smp() > 0 ? Integer.toString(i.smp()) : null);
        r.add(c, Messages.Props_qemu, i.qemu().isEmpty() ? null : i.qemu());
        r.add(c, Messages.Props_kernel, i.kernel().isEmpty() ? null : i.kernel());
        r.add(c, Messages.Props_slide, vm.isLive() ? Format.hex(i.slide()) : null);
        r.add(c, Messages.Props_source, Format.source(vm));
        r.add(c, Messages.Props_journal, i.journal());
        r.add(c, Messages.Props_probes, Integer.toString(vm.probes().size()));
        r.add(c, Messages.Props_hitsHeld, Long.toString(vm.hits().count()));
        return r;
    }

    private static IPropertySource probe(Probe p) {
        String c = Messages.Props_probe;
        RowsPropertySource r = new RowsPropertySource();
        r.add(c, Messages.Props_id, Integer.toString(p.id()));
        r.add(c, Messages.Props_spec, p.spec());
        r.add(c, Messages.Props_function, p.function().isEmpty() ? null : p.function());
        r.add(c, Messages.Props_address, Format.hex(p.addr()));
        r.add(c, Messages.Props_state, p.state().isEmpty() ? null : p.state());
        r.add(c, Messages.Props_reason, p.reason());
        r.add(c, Messages.Props_enabled, Boolean.toString(p.enabled()));
        r.add(c, Messages.Props_kind, p.kind());
        r.add(c, Messages.Props_mechanism, p.mechanism().isEmpty() ? null : p.mechanism());
        r.add(c, Messages.Props_hits, Long.toString(p.hits()));
        r.add(c, Messages.Props_args, Integer.toString(p.args()));
        r.add(c, Messages.Props_mem, p.mem());
        r.add(c, Messages.Props_regs, Boolean.toString(p.regs()));
        r.add(c, Messages.Props_process, p.filterText().isEmpty() ? null : p.filterText());
        r.add(c, Messages.Props_detector, p.detector() > 0 ? Integer.toString(p.detector()) : null);
        return r;
    }
}
