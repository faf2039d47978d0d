package io.hprobe.ui.internal;

import java.util.ArrayList;
import java.util.List;

import org.eclipse.jdt.annotation.Nullable;
import org.eclipse.ui.views.properties.IPropertyDescriptor;
import org.eclipse.ui.views.properties.IPropertySource;
import org.eclipse.ui.views.properties.PropertyDescriptor;

/** Read-only rows of text for the Properties view: a name, a value, a category. */
class RowsPropertySource implements IPropertySource {

    private final List<String[]> rows = new ArrayList<>();

    /** Adds a row; a null value leaves it out (a fact the object does not have). */
    final void add(String category, String name, @Nullable String value) {
        if (value != null) {
            rows.add(new String[]{ name, value, category });
        }
    }

    @Override
    public final @Nullable Object getEditableValue() {
        return null;
    }

    @Override
    public final IPropertyDescriptor[] getPropertyDescriptors() {
        IPropertyDescriptor[] d = new IPropertyDescriptor[rows.size()];
        for (int i = 0; i < d.length; i++) {
            PropertyDescriptor pd = new PropertyDescriptor(Integer.valueOf(i), rows.get(i)[0]);
            pd.setCategory(rows.get(i)[2]);
            d[i] = pd;
        }
        return d;
    }

    @Override
    public final @Nullable Object getPropertyValue(@Nullable Object id) {
        return id instanceof Integer i && i < rows.size() ? rows.get(i)[1] : null;
    }

    @Override
    public final boolean isPropertySet(@Nullable Object id) {
        return false;
    }

    @Override
    public final void resetPropertyValue(@Nullable Object id) {
        // read-only
    }

    @Override
    public final void setPropertyValue(@Nullable Object id, @Nullable Object value) {
        // read-only
    }
}
