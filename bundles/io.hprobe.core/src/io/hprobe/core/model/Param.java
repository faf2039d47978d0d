package io.hprobe.core.model;

import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;

import org.eclipse.jdt.annotation.Nullable;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;

import io.hprobe.core.protocol.Json;

/**
 * A parameter of a probed kernel function as the agent describes it (probe-list's params, docs/protocol.md):
 * its name, declared type, and how the 64-bit register holding it reads. {@link #format} reads a value as
 * libhprobe's hp_param__format does, so the workbench shows what the CLI and the exports show.
 *
 * @param cls  raw, int, uint, ptr or str
 * @param size bytes of the value (1..8)
 */
public record Param(String name, String type, String cls, int size) {

    private static final Pattern NAME = Pattern.compile("[A-Za-z_][A-Za-z0-9_]{0,30}"); //$NON-NLS-1$
    private static final List<String> CLASSES = List.of("raw", "int", "uint", "ptr", "str"); //$NON-NLS-1$ //$NON-NLS-2$ //$NON-NLS-3$ //$NON-NLS-4$ //$NON-NLS-5$

    /**
     * A probe's parameters, or null when the agent does not know them. All or nothing: a set with one bad
     * entry is unknown, so that no name lands on another's value. Empty: the function has none.
     */
    public static @Nullable List<Param> listOf(JsonObject probe) {
        if (!(Json.get(probe, "params") instanceof JsonArray a) || a.size() > 6) { //$NON-NLS-1$
            return null;
        }
        List<Param> out = new ArrayList<>();
        for (JsonElement e : a) {
            Param p = e instanceof JsonObject o ? of(o, Json.str(o, "name", "")) : null; //$NON-NLS-1$ //$NON-NLS-2$
            if (p == null || !NAME.matcher(p.name()).matches()) {
                return null;
            }
            out.add(p);
        }
        return List.copyOf(out);
    }

    /** A return probe's return type (ret_type), named "return", or null. */
    public static @Nullable Param returnOf(JsonObject probe) {
        return Json.get(probe, "ret_type") instanceof JsonObject o ? of(o, "return") : null; //$NON-NLS-1$ //$NON-NLS-2$
    }

    private static @Nullable Param of(JsonObject o, String name) {
        String cls = Json.str(o, "class", ""); //$NON-NLS-1$ //$NON-NLS-2$
        int size = Json.integer(o, "size", 0); //$NON-NLS-1$
        if (!CLASSES.contains(cls) || size < 1 || size > 8) {
            return null;
        }
        return new Param(name, Json.str(o, "type", ""), cls, size); //$NON-NLS-1$ //$NON-NLS-2$
    }

    /**
     * The value raw (a whole register) as this parameter's class reads it, as libhprobe's hp_param__value: an
     * int sign-extended from its size, a uint cut to its size (64-bit pattern), anything else raw.
     */
    public long value(long raw) {
        long v = size >= 8 ? raw : raw & ((1L << (size * 8)) - 1);
        return switch (cls) {
            case "int" -> size >= 8 ? v : v << (64 - size * 8) >> (64 - size * 8); //$NON-NLS-1$
            case "uint" -> v; //$NON-NLS-1$
            default -> raw;
        };
    }

    /** The value raw (a whole register) as this parameter reads: "3", "-2", "0x7ffd1234". */
    public String format(long raw) {
        return switch (cls) {
            case "int" -> Long.toString(value(raw)); //$NON-NLS-1$
            case "uint" -> Long.toUnsignedString(value(raw)); //$NON-NLS-1$
            default -> "0x" + Long.toHexString(raw); //$NON-NLS-1$
        };
    }
}
