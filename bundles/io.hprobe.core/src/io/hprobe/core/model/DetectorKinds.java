package io.hprobe.core.model;

import java.util.List;
import java.util.Map;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;

/**
 * The configuration members of the agent's detector kinds (native/agent/src/detectors, docs/detectors.md), so
 * that a configuration is a form: each field with its kind of value, its choices and a starting value. A
 * kind not listed here is configured as JSON; the agent checks every configuration either way.
 */
public final class DetectorKinds {

    /** What a field holds. */
    public enum Type {
        TEXT, NUMBER, CHOICE
    }

    /**
     * One member of a configuration.
     *
     * @param start the value a new detector's form starts with ("" leaves it out)
     * @param hint what to type, shown in an empty field
     */
    public record Field(String key, Type type, boolean required, List<String> choices, String start, String hint) {

        /** Its label, as the Detectors view says it, with the unit a number is in. */
        public String label() {
            return DetectorText.label(key) + (key.endsWith("_ms") ? " (ms)" : ""); //$NON-NLS-1$ //$NON-NLS-2$
        }
    }

    private static final Map<String, List<Field>> KINDS = Map.of( //
            "emergency", List.of( //$NON-NLS-1$
                    new Field("cve", Type.CHOICE, true, List.of("CVE-2008-0600"), "CVE-2008-0600", ""), //$NON-NLS-1$ //$NON-NLS-2$ //$NON-NLS-3$ //$NON-NLS-4$
                    new Field("action", Type.CHOICE, true, List.of("alert", "pause", "block"), "block", ""), //$NON-NLS-1$ //$NON-NLS-2$ //$NON-NLS-3$ //$NON-NLS-4$ //$NON-NLS-5$ //$NON-NLS-6$
                    new Field("errno", Type.NUMBER, false, List.of(), "", "14 (EFAULT) when blocking")), //$NON-NLS-1$ //$NON-NLS-2$ //$NON-NLS-3$ //$NON-NLS-4$
            "watchdog", List.of( //$NON-NLS-1$
                    new Field("probe", Type.TEXT, true, List.of(), "app:/apps/hb:heartbeat", "app:BINARY:FUNC"), //$NON-NLS-1$ //$NON-NLS-2$ //$NON-NLS-3$
                    new Field("period_ms", Type.NUMBER, true, List.of(), "1000", "the longest silence"), //$NON-NLS-1$ //$NON-NLS-2$ //$NON-NLS-3$
                    new Field("comm", Type.TEXT, false, List.of(), "", "only processes of this name"), //$NON-NLS-1$ //$NON-NLS-2$ //$NON-NLS-3$
                    new Field("pid", Type.NUMBER, false, List.of(), "", "only this process")), //$NON-NLS-1$ //$NON-NLS-2$ //$NON-NLS-3$
            "loop", List.of( //$NON-NLS-1$
                    new Field("scope", Type.CHOICE, false, List.of("all", "user", "kernel"), "all", ""), //$NON-NLS-1$ //$NON-NLS-2$ //$NON-NLS-3$ //$NON-NLS-4$ //$NON-NLS-5$ //$NON-NLS-6$
                    new Field("period_ms", Type.NUMBER, false, List.of(), "250", "between samples"), //$NON-NLS-1$ //$NON-NLS-2$ //$NON-NLS-3$
                    new Field("window_ms", Type.NUMBER, false, List.of(), "1000", "all samples in one loop"), //$NON-NLS-1$ //$NON-NLS-2$ //$NON-NLS-3$
                    new Field("confirm_ms", Type.NUMBER, false, List.of(), "1000", "then no exit taken"), //$NON-NLS-1$ //$NON-NLS-2$ //$NON-NLS-3$
                    new Field("cooldown_ms", Type.NUMBER, false, List.of(), "", "a task is left alone after"), //$NON-NLS-1$ //$NON-NLS-2$ //$NON-NLS-3$
                    new Field("pid", Type.NUMBER, false, List.of(), "", "only this process"))); //$NON-NLS-1$ //$NON-NLS-2$ //$NON-NLS-3$

    private DetectorKinds() {
    }

    /** The kinds with a form, in the order the design names them. */
    public static List<String> kinds() {
        return List.of("emergency", "watchdog", "loop"); //$NON-NLS-1$ //$NON-NLS-2$ //$NON-NLS-3$
    }

    /** A kind's fields; none for a kind configured as JSON. */
    public static List<Field> fields(String kind) {
        return KINDS.getOrDefault(kind, List.of());
    }

    /** A field's value in a configuration, as the form shows it ("" when absent). */
    public static String shown(JsonObject config, Field f) {
        JsonElement e = config.get(f.key());
        return e == null || e.isJsonNull() ? "" : e.getAsString(); //$NON-NLS-1$
    }

    /**
     * The configuration a form's values make: empty optional fields left out, numbers as numbers.
     *
     * @throws IllegalArgumentException naming the field, for a required field left empty or a bad number
     */
    public static JsonObject config(String kind, Map<String, String> values) {
        JsonObject o = new JsonObject();
        for (Field f : fields(kind)) {
            String v = values.getOrDefault(f.key(), "").strip(); //$NON-NLS-1$
            if (v.isEmpty()) {
                if (f.required()) {
                    throw new IllegalArgumentException(f.label() + ": needed"); //$NON-NLS-1$
                }
                continue;
            }
            if (f.type() == Type.NUMBER) {
                try {
                    o.addProperty(f.key(), Long.parseLong(v));
                } catch (NumberFormatException e) {
                    throw new IllegalArgumentException(f.label() + ": a whole number, not '" + v + "'"); //$NON-NLS-1$ //$NON-NLS-2$
                }
            } else {
                o.addProperty(f.key(), v);
            }
        }
        return o;
    }
}
