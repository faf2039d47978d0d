package io.hprobe.ui.internal;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import org.eclipse.jdt.annotation.Nullable;
import org.eclipse.ui.views.properties.IPropertyDescriptor;
import org.eclipse.ui.views.properties.IPropertySource;
import org.eclipse.ui.views.properties.PropertyDescriptor;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;

import io.hprobe.core.model.Hit;
import io.hprobe.core.model.HitStore;
import io.hprobe.core.model.Probe;
import io.hprobe.core.protocol.Json;
import io.hprobe.ui.Messages;

/** A hit in the Properties view: read-only rows from the hit store. */
final class HitPropertySource implements IPropertySource {

    private final List<String[]> rows = new ArrayList<>();

    HitPropertySource(HitSelection sel) {
        HitStore store = sel.vm().hits();
        if (sel.index() < store.first() || sel.index() >= store.size()) {
            rows.add(new String[]{ Messages.Props_hit, Messages.Props_evicted });
            return;
        }
        Hit h = store.get(sel.index());
        Probe p = sel.vm().probe(h.probe());
        if (sel.count() > 1) {
            rows.add(new String[]{ Messages.Props_bucket,
                    org.eclipse.osgi.util.NLS.bind(Messages.Props_bucketValue, sel.count()) });
        }
        rows.add(new String[]{ Messages.Props_seq, Long.toString(h.seq()) });
        rows.add(new String[]{ Messages.Props_time, Format.time(sel.vm(), h.timeNs()) });
        rows.add(new String[]{ Messages.Props_probe, h.probe() + (p == null ? "" : " " + p.label()) }); //$NON-NLS-1$ //$NON-NLS-2$
        rows.add(new String[]{ Messages.Props_process,
                h.pid() < 0 ? Messages.Hits_taskUnknown : h.comm() + " (" + h.pid() + ")" }); //$NON-NLS-1$ //$NON-NLS-2$
        rows.add(new String[]{ Messages.Props_tgid, Format.task(h.tgid()) });
        rows.add(new String[]{ Messages.Props_vcpu, Integer.toString(h.vcpu()) });
        rows.add(new String[]{ Messages.Props_ip, Format.hex(h.ip()) });
        rows.add(new String[]{ Messages.Props_mode, h.user() ? Messages.Props_user : Messages.Props_kernel });
        if (h.blocked()) {
            rows.add(new String[]{ Messages.Props_blocked, Boolean.TRUE.toString() });
        }
        for (int i = 0; i < h.args().length; i++) {
            long a = h.args()[i];
            rows.add(new String[]{ Messages.Props_arg + (i + 1),
                    Long.toUnsignedString(a) + "  (" + Format.hex(a) + ")" }); //$NON-NLS-1$ //$NON-NLS-2$
        }
        JsonObject rec = sel.record();
        if (rec != null) {
            addRecord(rec);
        }
    }

    /** What only the journal record has: the memory capture, and the registers in a category of their own. */
    private void addRecord(JsonObject rec) {
        if (rec.has("mem")) { //$NON-NLS-1$
            rows.add(new String[]{ Messages.Props_memory, Json.str(rec, "mem", "") + "  @ " //$NON-NLS-1$ //$NON-NLS-2$ //$NON-NLS-3$
                    + Json.str(rec, "memaddr", "?") }); //$NON-NLS-1$ //$NON-NLS-2$
        }
        if (rec.get("regs") instanceof JsonObject regs) { //$NON-NLS-1$
            for (Map.Entry<String, JsonElement> r : regs.entrySet()) {
                rows.add(new String[]{ r.getKey(), r.getValue().getAsString(), Messages.Props_registers });
            }
        }
    }

    @Override
    public @Nullable Object getEditableValue() {
        return null;
    }

    @Override
    public IPropertyDescriptor[] getPropertyDescriptors() {
        IPropertyDescriptor[] d = new IPropertyDescriptor[rows.size()];
        for (int i = 0; i < d.length; i++) {
            String[] row = rows.get(i);
            PropertyDescriptor pd = new PropertyDescriptor(Integer.valueOf(i), row[0]);
            pd.setCategory(row.length > 2 ? row[2] : Messages.Props_category);
            d[i] = pd;
        }
        return d;
    }

    @Override
    public @Nullable Object getPropertyValue(@Nullable Object id) {
        return id instanceof Integer i && i < rows.size() ? rows.get(i)[1] : null;
    }

    @Override
    public boolean isPropertySet(@Nullable Object id) {
        return false;
    }

    @Override
    public void resetPropertyValue(@Nullable Object id) {
        // read-only
    }

    @Override
    public void setPropertyValue(@Nullable Object id, @Nullable Object value) {
        // read-only
    }
}
