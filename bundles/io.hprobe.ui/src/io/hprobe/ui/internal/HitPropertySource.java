package io.hprobe.ui.internal;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import org.eclipse.jdt.annotation.Nullable;
import org.eclipse.ui.views.properties.IPropertyDescriptor;
import org.eclipse.ui.views.properties.IPropertySource;
import org.eclipse.ui.views.properties.PropertyDescriptor;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;

import io.hprobe.core.journal.HitField;
import io.hprobe.core.journal.HitFields;
import io.hprobe.core.model.Hit;
import io.hprobe.core.model.HitStore;
import io.hprobe.ui.Messages;

/**
 * A hit in the Properties view: a row per field of libhprobe's hit field table, titled as the table says;
 * from the hit store for what it keeps, from the hit's journal record (once fetched) for the rest:
 * captured memory, and the registers in a category of their own.
 */
final class HitPropertySource implements IPropertySource {

    private final List<String[]> rows = new ArrayList<>();

    HitPropertySource(HitSelection sel) {
        HitStore store = sel.vm().hits();
        if (sel.index() < store.first() || sel.index() >= store.size()) {
            rows.add(new String[]{ Messages.Props_hit, Messages.Props_evicted });
            return;
        }
        Hit h = store.get(sel.index());
        if (sel.count() > 1) {
            rows.add(new String[]{ Messages.Props_bucket,
                    org.eclipse.osgi.util.NLS.bind(Messages.Props_bucketValue, sel.count()) });
        }
        JsonObject rec = sel.record();
        Map<String, HitColumns.Column> held = new HashMap<>();
        for (HitColumns.Column c : HitColumns.held()) {
            held.put(c.field().name(), c);
        }
        for (HitField f : HitFields.all()) {
            HitColumns.Column c = held.get(f.name());
            if (f.type() == HitField.Type.ARGS) {
                args(f, h.args());
            } else if (c != null) {
                rows.add(new String[]{ f.title(), c.value().of(sel.vm(), h) });
            } else if (rec != null) {
                fromRecord(f, rec);
            }
        }
    }

    /** One row per argument, in decimal and hex. */
    private void args(HitField f, long[] args) {
        for (int i = 0; i < args.length; i++) {
            long a = args[i];
            rows.add(new String[]{ f.title() + " " + i, //$NON-NLS-1$
                    Long.toUnsignedString(a) + "  (" + Format.hex(a) + ")" }); //$NON-NLS-1$ //$NON-NLS-2$
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
                rows.add(new String[]{ r.getKey(), r.getValue().getAsString(), f.title() });
            }
        } else {
            rows.add(new String[]{ f.title(), v.isJsonPrimitive() ? v.getAsString() : v.toString() });
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
