package io.hprobe.core.protocol;

import java.math.BigInteger;
import java.util.ArrayList;
import java.util.List;

import org.eclipse.jdt.annotation.Nullable;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonPrimitive;

/**
 * Lenient getters over agent JSON: a missing or mistyped member gives the default instead of an exception,
 * because the agent may add members (forward compatibility) and a view must never die on one reply.
 */
public final class Json {

    private Json() {
    }

    public static @Nullable JsonElement get(JsonObject o, String key) {
        JsonElement e = o.get(key);
        return e == null || e.isJsonNull() ? null : e;
    }

    public static String str(JsonObject o, String key, String dflt) {
        JsonElement e = get(o, key);
        return e instanceof JsonPrimitive p ? p.getAsString() : dflt;
    }

    public static @Nullable String strOrNull(JsonObject o, String key) {
        JsonElement e = get(o, key);
        return e instanceof JsonPrimitive p ? p.getAsString() : null;
    }

    public static long lng(JsonObject o, String key, long dflt) {
        JsonElement e = get(o, key);
        if (e instanceof JsonPrimitive p && p.isNumber()) {
            return parseUnsigned(p.getAsString(), dflt);
        }
        return dflt;
    }

    public static int integer(JsonObject o, String key, int dflt) {
        return (int) lng(o, key, dflt);
    }

    public static boolean bool(JsonObject o, String key, boolean dflt) {
        JsonElement e = get(o, key);
        return e instanceof JsonPrimitive p && p.isBoolean() ? p.getAsBoolean() : dflt;
    }

    /** An address "0x…" (or a plain number) as the 64-bit pattern; dflt if absent or malformed. */
    public static long addr(JsonObject o, String key, long dflt) {
        JsonElement e = get(o, key);
        if (!(e instanceof JsonPrimitive p)) {
            return dflt;
        }
        return parseAddr(p.getAsString(), dflt);
    }

    public static long parseAddr(String s, long dflt) {
        try {
            String t = s.trim();
            if (t.startsWith("0x") || t.startsWith("0X")) { //$NON-NLS-1$ //$NON-NLS-2$
                return Long.parseUnsignedLong(t.substring(2), 16);
            }
            return Long.parseUnsignedLong(t);
        } catch (NumberFormatException ex) {
            return dflt;
        }
    }

    /**
     * A JSON integer literal as a 64-bit pattern: unsigned 64-bit values above Long.MAX_VALUE keep their
     * bits, negative values stay negative. Never through double, which would lose the low bits.
     */
    public static long parseUnsigned(String literal, long dflt) {
        try {
            if (literal.startsWith("-")) { //$NON-NLS-1$
                return Long.parseLong(literal);
            }
            return Long.parseUnsignedLong(literal);
        } catch (NumberFormatException ex) {
            try {
                return new BigInteger(literal).longValue();
            } catch (NumberFormatException ex2) {
                return dflt;
            }
        }
    }

    public static JsonObject obj(JsonObject o, String key) {
        JsonElement e = get(o, key);
        return e instanceof JsonObject j ? j : new JsonObject();
    }

    public static JsonArray arr(JsonObject o, String key) {
        JsonElement e = get(o, key);
        return e instanceof JsonArray a ? a : new JsonArray();
    }

    /** The objects of an array, skipping anything that is not an object. */
    public static List<JsonObject> objects(@Nullable JsonElement array) {
        List<JsonObject> out = new ArrayList<>();
        if (array instanceof JsonArray a) {
            for (JsonElement e : a) {
                if (e instanceof JsonObject o) {
                    out.add(o);
                }
            }
        }
        return out;
    }

    /** "0x…" in lower-case hex, the protocol's address form. */
    public static String hex(long addr) {
        return "0x" + Long.toHexString(addr); //$NON-NLS-1$
    }

    /** An unsigned 64-bit value in decimal. */
    public static String unsigned(long v) {
        return Long.toUnsignedString(v);
    }
}
