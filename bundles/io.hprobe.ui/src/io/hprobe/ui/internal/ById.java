package io.hprobe.ui.internal;

import java.util.function.ToIntFunction;

import org.eclipse.jdt.annotation.Nullable;
import org.eclipse.jface.viewers.IElementComparer;

/**
 * Compares a viewer's rows by the id of the record they show. The model replaces a record when any of its
 * members changes (a probe's hit count, a detector's live state): compared by id, the row keeps its
 * selection across that refresh instead of losing it.
 */
public final class ById<T> implements IElementComparer {

    private final Class<T> type;
    private final ToIntFunction<T> id;

    public ById(Class<T> type, ToIntFunction<T> id) {
        this.type = type;
        this.id = id;
    }

    @Override
    public boolean equals(@Nullable Object a, @Nullable Object b) {
        if (type.isInstance(a) && type.isInstance(b)) {
            return id.applyAsInt(type.cast(a)) == id.applyAsInt(type.cast(b));
        }
        return a == null ? b == null : a.equals(b);
    }

    @Override
    public int hashCode(@Nullable Object element) {
        if (type.isInstance(element)) {
            return Integer.hashCode(id.applyAsInt(type.cast(element)));
        }
        return element == null ? 0 : element.hashCode();
    }
}
