package io.hprobe.ui.internal;

import java.util.HashMap;
import java.util.List;
import java.util.Map;

import org.eclipse.jdt.annotation.Nullable;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;

import io.hprobe.core.journal.HitField;
import io.hprobe.core.journal.HitFields;
import io.hprobe.core.model.Hit;
import io.hprobe.core.model.HitStore;
import io.hprobe.core.model.Param;
import io.hprobe.core.model.Probe;
import io.hprobe.ui.Messages;

/**
 * A hit in the Properties view: a row per field of libhprobe's hit field table, titled as the table says;
 * from the hit store for what it keeps, from the hit's journal record (once fetched) for the rest:
 * captured memory, and the registers in a category of their own.
 */
final class HitPropertySource extends RowsPropertySource {

    HitPropertySource(HitSelection sel) {
        HitStore store = sel.vm().hits();
        if (sel.index() < store.first() || sel.index() >= store.size()) {
            add(Messages.Props_category, Messages.Props_hit, Messages.Props_evicted);
            return;
        }
        Hit h = store.get(sel.index());
        if (sel.count() > 1) {
            add(Messages.Props_category, Messages.Props_bucket,
                    org.eclipse.osgi.util.NLS.bind(Messages.Props_bucketValue, sel.count()));
        }
        JsonObject rec = sel.record();
        Map<String, HitColumns.Column> held = new HashMap<>();
        for (HitColumns.Column c : HitColumns.held()) {
            held.put(c.field().name(), c);
        }
        for (HitField f : HitFields.all()) {
            HitColumns.Column c = held.get(f.name());
            if (f.type() == HitField.Type.ARGS) {
                args(f, h.args(), sel.vm().probeOfHit(h.probe()));
            } else if (c != null) {
                add(Messages.Props_category, f.title(), c.value().of(sel.vm(), h));
            } else if (rec != null) {
                fromRecord(f, rec);
            }
        }
    }

    /**
     * One row per argument: by its parameter's name, read as its type, where the agent knows the function's
     * parameters ("Args 0 fd": "3  (unsigned int, 0x3)"); else in decimal and hex.
     */
    private void args(HitField f, long[] args, @Nullable Probe probe) {
        List<Param> ps = probe == null ? null : probe.params();
        for (int i = 0; i < args.length; i++) {
            long a = args[i];
            if (ps != null && i < ps.size()) {
                Param p = ps.get(i);
                add(Messages.Props_category, f.title() + " " + i + " " + p.name(), //$NON-NLS-1$ //$NON-NLS-2$
                        p.format(a) + "  (" + p.type() + ", " + Format.hex(a) + ")"); //$NON-NLS-1$ //$NON-NLS-2$ //$NON-NLS-3$
            } else {
                add(Messages.Props_category, f.title() + " " + i, //$NON-NLS-1$
                        Long.toUnsignedString(a) + "  (" + Format.hex(a) + ")"); //$NON-NLS-1$ //$NON-NLS-2$
            }
        }
    }

    /** What only the journal record has (absent members are left out: no capture, no registers). */
    private void fromRecord(HitField f, JsonObject rec) {
        JsonElement v = rec.get(f.name());
        if (v == null || v.isJsonNull()) {
            return;
        }
        if (v instanceof JsonObject regs) {
            for (Map.Entry<String, JsonElement> r : regs.entrySet()) {
                add(f.title(), r.getKey(), r.getValue().getAsString());
            }
        } else {
            add(Messages.Props_category, f.title(), v.isJsonPrimitive() ? v.getAsString() : v.toString());
        }
    }
}
