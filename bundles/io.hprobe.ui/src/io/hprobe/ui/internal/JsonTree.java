package io.hprobe.ui.internal;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import org.eclipse.jdt.annotation.Nullable;
import org.eclipse.jface.viewers.ITreeContentProvider;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonPrimitive;

/**
 * Any JSON value as a tree of (key, value) nodes: detector configs and states are shown generically, so a
 * new detector kind needs no view code.
 */
public final class JsonTree implements ITreeContentProvider {

    /** One member or element; value is the JSON below it. */
    public record Node(String key, JsonElement value) {

        /** The leaf's text, or a short summary for objects and arrays. */
        public String text() {
            if (value instanceof JsonPrimitive p) {
                return p.getAsString();
            }
            if (value instanceof JsonArray a) {
                return "[" + a.size() + "]"; //$NON-NLS-1$ //$NON-NLS-2$
            }
            if (value instanceof JsonObject o) {
                return "{" + o.size() + "}"; //$NON-NLS-1$ //$NON-NLS-2$
            }
            return "null"; //$NON-NLS-1$
        }
    }

    @Override
    public Object[] getElements(@Nullable Object input) {
        return input instanceof JsonElement e ? children(e) : new Object[0];
    }

    @Override
    public Object[] getChildren(@Nullable Object parent) {
        return parent instanceof Node n ? children(n.value()) : new Object[0];
    }

    private static Object[] children(JsonElement e) {
        List<Node> out = new ArrayList<>();
        if (e instanceof JsonObject o) {
            for (Map.Entry<String, JsonElement> m : o.entrySet()) {
                out.add(new Node(m.getKey(), m.getValue()));
            }
        } else if (e instanceof JsonArray a) {
            for (int i = 0; i < a.size(); i++) {
                out.add(new Node("[" + i + "]", a.get(i))); //$NON-NLS-1$ //$NON-NLS-2$
            }
        }
        return out.toArray();
    }

    @Override
    public @Nullable Object getParent(@Nullable Object element) {
        return null;
    }

    @Override
    public boolean hasChildren(@Nullable Object element) {
        return element instanceof Node n && (n.value().isJsonObject() || n.value().isJsonArray());
    }
}
