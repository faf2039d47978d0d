package io.hprobe.core.model;

import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

import org.eclipse.jdt.annotation.Nullable;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;

import io.hprobe.core.protocol.Json;

/**
 * A probe's aggregation as agg-read returns it (docs/protocol.md): rows largest first. Values stay text, as
 * the agent wrote them: a key may be a guest string (escaped) or a 64-bit number beyond a long.
 *
 * @param fn        count, sum, min, max, avg or hist
 * @param by        the keys' names, as written
 * @param otherHits hits of keys past maxKeys, summed in one row
 */
public record AggTable(int probe, String agg, String fn, List<String> by, List<AggTable.Row> rows, long hits, long keys,
        long maxKeys, long otherHits) {

    /** A power-of-two bucket of a hist row: from and to inclusive. */
    public record Bucket(String from, String to, long count) {

        /** "[4, 8)" as bpftrace and hprobe agg show label it; "[0]"; "(..., 0)" for the negative ones. */
        public String label() {
            if (to.startsWith("-")) { //$NON-NLS-1$
                return "(..., 0)"; //$NON-NLS-1$
            }
            if (from.equals(to)) {
                return "[" + from + "]"; //$NON-NLS-1$ //$NON-NLS-2$
            }
            try {
                return "[" + from + ", " + (Long.parseLong(to) + 1) + ")"; //$NON-NLS-1$ //$NON-NLS-2$ //$NON-NLS-3$
            } catch (NumberFormatException e) { // the top bucket: to is 2^64 - 1
                return "[" + from + ", 2^64)"; //$NON-NLS-1$ //$NON-NLS-2$
            }
        }
    }

    /** One key's sums; sum, min, max and avg only for functions of a value. */
    public record Row(List<String> key, long count, @Nullable String sum, @Nullable String min, @Nullable String max,
            double avg, List<Bucket> hist) {

        /** What the table sorts and draws its bar by: the function's figure. */
        public double figure(String fn) {
            String v = switch (fn) {
                case "sum" -> sum; //$NON-NLS-1$
                case "min" -> min; //$NON-NLS-1$
                case "max" -> max; //$NON-NLS-1$
                default -> null;
            };
            if ("avg".equals(fn)) { //$NON-NLS-1$
                return avg;
            }
            try {
                return v != null ? Double.parseDouble(v) : count;
            } catch (NumberFormatException e) {
                return count;
            }
        }
    }

    /**
     * The order of a table column, ascending: a key column (0 .. by.size() - 1) by number when both keys are
     * numbers (exact past a long), else by text; then the count; any later column (the function's figure, the
     * bar) by {@link Row#figure}.
     */
    public Comparator<Row> columnOrder(int column) {
        if (column < by.size()) {
            return (a, b) -> compareKeys(keyAt(a, column), keyAt(b, column));
        }
        if (column == by.size()) {
            return Comparator.comparingLong(Row::count);
        }
        return Comparator.comparingDouble(r -> r.figure(fn));
    }

    private static String keyAt(Row r, int k) {
        return k < r.key().size() ? r.key().get(k) : ""; //$NON-NLS-1$
    }

    private static int compareKeys(String a, String b) {
        BigDecimal x = number(a);
        BigDecimal y = number(b);
        if (x != null && y != null) {
            return x.compareTo(y);
        }
        return x != null ? -1 : y != null ? 1 : a.compareTo(b); // numbers before text
    }

    private static @Nullable BigDecimal number(String s) {
        try {
            return s.isEmpty() ? null : new BigDecimal(s);
        } catch (NumberFormatException e) {
            return null;
        }
    }

    public static AggTable fromJson(JsonObject o) {
        List<Row> rows = new ArrayList<>();
        for (JsonObject r : Json.objects(o.get("rows"))) { //$NON-NLS-1$
            List<Bucket> hist = new ArrayList<>();
            for (JsonObject b : Json.objects(r.get("hist"))) { //$NON-NLS-1$
                hist.add(new Bucket(text(b.get("from")), text(b.get("to")), Json.lng(b, "count", 0))); //$NON-NLS-1$ //$NON-NLS-2$ //$NON-NLS-3$
            }
            rows.add(new Row(texts(r.get("key")), Json.lng(r, "count", 0), textOrNull(r.get("sum")), //$NON-NLS-1$ //$NON-NLS-2$ //$NON-NLS-3$
                    textOrNull(r.get("min")), textOrNull(r.get("max")), //$NON-NLS-1$ //$NON-NLS-2$
                    r.has("avg") && r.get("avg").isJsonPrimitive() ? r.get("avg").getAsDouble() : 0, hist)); //$NON-NLS-1$ //$NON-NLS-2$ //$NON-NLS-3$
        }
        return new AggTable(Json.integer(o, "probe", 0), Json.str(o, "agg", ""), Json.str(o, "fn", "count"), //$NON-NLS-1$ //$NON-NLS-2$ //$NON-NLS-3$ //$NON-NLS-4$ //$NON-NLS-5$ //$NON-NLS-6$
                texts(o.get("by")), List.copyOf(rows), Json.lng(o, "hits", 0), Json.lng(o, "keys", 0), //$NON-NLS-1$ //$NON-NLS-2$ //$NON-NLS-3$
                Json.lng(o, "max_keys", 0), Json.lng(o, "other_hits", 0)); //$NON-NLS-1$ //$NON-NLS-2$
    }

    private static List<String> texts(@Nullable JsonElement e) {
        List<String> out = new ArrayList<>();
        if (e instanceof JsonArray a) {
            for (JsonElement x : a) {
                out.add(text(x));
            }
        }
        return List.copyOf(out);
    }

    private static String text(@Nullable JsonElement e) {
        String s = textOrNull(e);
        return s != null ? s : ""; //$NON-NLS-1$
    }

    /** A JSON number as the agent wrote it (a long stays exact), a string as it is. */
    private static @Nullable String textOrNull(@Nullable JsonElement e) {
        if (e == null || !e.isJsonPrimitive()) {
            return null;
        }
        return e.getAsJsonPrimitive().isNumber() ? e.getAsBigDecimal().toPlainString() : e.getAsString();
    }
}
