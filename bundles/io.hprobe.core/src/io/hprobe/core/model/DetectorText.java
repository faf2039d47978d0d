package io.hprobe.core.model;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import org.eclipse.jdt.annotation.Nullable;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonPrimitive;

import io.hprobe.core.protocol.Json;

/**
 * A detector's configuration and live state in words: labelled values instead of JSON members. The one
 * owner of the words for the agent's detector fields (docs/detectors.md); a member it does not know (a new
 * kind's) reads as its name in words, so any kind still shows.
 */
public final class DetectorText {

    /** One labelled value; an array's elements and an object's members are its children. */
    public record Row(String label, String value, List<Row> children) {
    }

    /** Member: label, and the unit of its value ("" for none). */
    private static final Map<String, String[]> WORDS = Map.ofEntries( //
            Map.entry("cve", new String[]{ "CVE", "" }), //$NON-NLS-1$ //$NON-NLS-2$ //$NON-NLS-3$
            Map.entry("action", new String[]{ "Action", "" }), //$NON-NLS-1$ //$NON-NLS-2$ //$NON-NLS-3$
            Map.entry("errno", new String[]{ "errno returned", "" }), //$NON-NLS-1$ //$NON-NLS-2$ //$NON-NLS-3$
            Map.entry("calls", new String[]{ "Calls seen", "" }), //$NON-NLS-1$ //$NON-NLS-2$ //$NON-NLS-3$
            Map.entry("attempts", new String[]{ "Exploit attempts", "" }), //$NON-NLS-1$ //$NON-NLS-2$ //$NON-NLS-3$
            Map.entry("benign", new String[]{ "Benign calls", "" }), //$NON-NLS-1$ //$NON-NLS-2$ //$NON-NLS-3$
            Map.entry("blocked", new String[]{ "Calls blocked", "" }), //$NON-NLS-1$ //$NON-NLS-2$ //$NON-NLS-3$
            Map.entry("paused", new String[]{ "VM paused", "times" }), //$NON-NLS-1$ //$NON-NLS-2$ //$NON-NLS-3$
            Map.entry("last", new String[]{ "Last attempt", "" }), //$NON-NLS-1$ //$NON-NLS-2$ //$NON-NLS-3$
            Map.entry("why", new String[]{ "Why", "" }), //$NON-NLS-1$ //$NON-NLS-2$ //$NON-NLS-3$
            Map.entry("probe", new String[]{ "Heartbeat function", "" }), //$NON-NLS-1$ //$NON-NLS-2$ //$NON-NLS-3$
            Map.entry("probe_state", new String[]{ "Its probe", "" }), //$NON-NLS-1$ //$NON-NLS-2$ //$NON-NLS-3$
            Map.entry("period_ms", new String[]{ "Period", "ms" }), //$NON-NLS-1$ //$NON-NLS-2$ //$NON-NLS-3$
            Map.entry("target", new String[]{ "Program", "" }), //$NON-NLS-1$ //$NON-NLS-2$ //$NON-NLS-3$
            Map.entry("processes", new String[]{ "Processes", "" }), //$NON-NLS-1$ //$NON-NLS-2$ //$NON-NLS-3$
            Map.entry("heartbeat_age_ms", new String[]{ "Last beat", "ms ago" }), //$NON-NLS-1$ //$NON-NLS-2$ //$NON-NLS-3$
            Map.entry("beats", new String[]{ "Beats", "" }), //$NON-NLS-1$ //$NON-NLS-2$ //$NON-NLS-3$
            Map.entry("hangs", new String[]{ "Hangs", "" }), //$NON-NLS-1$ //$NON-NLS-2$ //$NON-NLS-3$
            Map.entry("recoveries", new String[]{ "Recoveries", "" }), //$NON-NLS-1$ //$NON-NLS-2$ //$NON-NLS-3$
            Map.entry("exits", new String[]{ "Exits", "" }), //$NON-NLS-1$ //$NON-NLS-2$ //$NON-NLS-3$
            Map.entry("comm", new String[]{ "Command", "" }), //$NON-NLS-1$ //$NON-NLS-2$ //$NON-NLS-3$
            Map.entry("pid", new String[]{ "PID", "" }), //$NON-NLS-1$ //$NON-NLS-2$ //$NON-NLS-3$
            Map.entry("tgid", new String[]{ "TGID", "" }), //$NON-NLS-1$ //$NON-NLS-2$ //$NON-NLS-3$
            Map.entry("vcpu", new String[]{ "vCPU", "" }), //$NON-NLS-1$ //$NON-NLS-2$ //$NON-NLS-3$
            Map.entry("state", new String[]{ "State", "" }), //$NON-NLS-1$ //$NON-NLS-2$ //$NON-NLS-3$
            Map.entry("scope", new String[]{ "Scope", "" }), //$NON-NLS-1$ //$NON-NLS-2$ //$NON-NLS-3$
            Map.entry("window_ms", new String[]{ "Window", "ms" }), //$NON-NLS-1$ //$NON-NLS-2$ //$NON-NLS-3$
            Map.entry("confirm_ms", new String[]{ "Confirmation", "ms" }), //$NON-NLS-1$ //$NON-NLS-2$ //$NON-NLS-3$
            Map.entry("cooldown_ms", new String[]{ "Cool-down", "ms" }), //$NON-NLS-1$ //$NON-NLS-2$ //$NON-NLS-3$
            Map.entry("samples", new String[]{ "Samples", "" }), //$NON-NLS-1$ //$NON-NLS-2$ //$NON-NLS-3$
            Map.entry("candidates", new String[]{ "Candidates", "" }), //$NON-NLS-1$ //$NON-NLS-2$ //$NON-NLS-3$
            Map.entry("progressing", new String[]{ "Left the loop in time", "" }), //$NON-NLS-1$ //$NON-NLS-2$ //$NON-NLS-3$
            Map.entry("stuck", new String[]{ "Stuck", "" }), //$NON-NLS-1$ //$NON-NLS-2$ //$NON-NLS-3$
            Map.entry("recovered", new String[]{ "Recovered", "" }), //$NON-NLS-1$ //$NON-NLS-2$ //$NON-NLS-3$
            Map.entry("abandoned", new String[]{ "Abandoned", "" }), //$NON-NLS-1$ //$NON-NLS-2$ //$NON-NLS-3$
            Map.entry("tasks", new String[]{ "Tasks tracked", "" }), //$NON-NLS-1$ //$NON-NLS-2$ //$NON-NLS-3$
            Map.entry("suspicions", new String[]{ "Suspicions", "" }), //$NON-NLS-1$ //$NON-NLS-2$ //$NON-NLS-3$
            Map.entry("function", new String[]{ "Function", "" }), //$NON-NLS-1$ //$NON-NLS-2$ //$NON-NLS-3$
            Map.entry("loop_start", new String[]{ "Loop from", "" }), //$NON-NLS-1$ //$NON-NLS-2$ //$NON-NLS-3$
            Map.entry("loop_end", new String[]{ "Loop to", "" }), //$NON-NLS-1$ //$NON-NLS-2$ //$NON-NLS-3$
            Map.entry("code_from", new String[]{ "Code read from", "" }), //$NON-NLS-1$ //$NON-NLS-2$ //$NON-NLS-3$
            Map.entry("binary", new String[]{ "Program", "" }), //$NON-NLS-1$ //$NON-NLS-2$ //$NON-NLS-3$
            Map.entry("no_symbols", new String[]{ "No symbols", "" }), //$NON-NLS-1$ //$NON-NLS-2$ //$NON-NLS-3$
            Map.entry("exits_watched", new String[]{ "Exits watched", "" }), //$NON-NLS-1$ //$NON-NLS-2$ //$NON-NLS-3$
            Map.entry("in_loop_ms", new String[]{ "In the loop for", "ms" })); //$NON-NLS-1$ //$NON-NLS-2$ //$NON-NLS-3$

    private static final Map<String, String> ACTIONS = Map.of("alert", "raise an alert", //$NON-NLS-1$ //$NON-NLS-2$
            "pause", "pause the VM", "block", "block the call"); //$NON-NLS-1$ //$NON-NLS-2$ //$NON-NLS-3$ //$NON-NLS-4$

    private DetectorText() {
    }

    /** The configuration as one line: what the detector watches and what it does. */
    public static String config(Detector d) {
        JsonObject c = d.config();
        String rest = members(c, "cve", "action", "probe", "period_ms"); //$NON-NLS-1$ //$NON-NLS-2$ //$NON-NLS-3$ //$NON-NLS-4$
        String lead = switch (d.kind()) {
            case "emergency" -> Json.str(c, "cve", "?") + ": " //$NON-NLS-1$ //$NON-NLS-2$ //$NON-NLS-3$ //$NON-NLS-4$
                    + ACTIONS.getOrDefault(Json.str(c, "action", "alert"), Json.str(c, "action", "alert")); //$NON-NLS-1$ //$NON-NLS-2$ //$NON-NLS-3$ //$NON-NLS-4$ //$NON-NLS-5$ //$NON-NLS-6$
            case "watchdog" -> Json.str(c, "probe", "?") + " called at least every " //$NON-NLS-1$ //$NON-NLS-2$ //$NON-NLS-3$ //$NON-NLS-4$
                    + value("period_ms", c.get("period_ms")); //$NON-NLS-1$ //$NON-NLS-2$
            default -> ""; //$NON-NLS-1$
        };
        if (lead.isEmpty()) {
            rest = members(c);
            return rest.isEmpty() ? "defaults" : rest; //$NON-NLS-1$
        }
        return rest.isEmpty() ? lead : lead + "; " + rest; //$NON-NLS-1$
    }

    /** The live state as rows, in the agent's order. */
    public static List<Row> state(Detector d) {
        return rows(d.state());
    }

    /** A member's label: its word, else its name with the unit cut and the underscores spaced. */
    public static String label(String key) {
        String[] w = WORDS.get(key);
        if (w != null) {
            return w[0];
        }
        String k = key.replaceFirst("_(ms|ns|s)$", "").replace('_', ' '); //$NON-NLS-1$ //$NON-NLS-2$
        return k.isEmpty() ? key : Character.toUpperCase(k.charAt(0)) + k.substring(1);
    }

    /** A member's value in words: a number with its unit, yes or no, an array's size. */
    public static String value(String key, @Nullable JsonElement v) {
        if (v == null || v.isJsonNull()) {
            return "-"; //$NON-NLS-1$
        }
        if (v instanceof JsonArray a) {
            return a.isEmpty() ? "none" : Integer.toString(a.size()); //$NON-NLS-1$
        }
        if (v instanceof JsonObject o) {
            return headline(o);
        }
        JsonPrimitive p = v.getAsJsonPrimitive();
        if (p.isBoolean()) {
            return p.getAsBoolean() ? "yes" : "no"; //$NON-NLS-1$ //$NON-NLS-2$
        }
        String[] w = WORDS.get(key);
        String unit = w != null ? w[1] : key.matches(".*_(ms|ns|s)") ? key.substring(key.lastIndexOf('_') + 1) : ""; //$NON-NLS-1$ //$NON-NLS-2$
        String text = p.getAsString();
        if ("action".equals(key)) { //$NON-NLS-1$
            text = ACTIONS.getOrDefault(text, text);
        }
        return unit.isEmpty() ? text : text + " " + unit; //$NON-NLS-1$
    }

    private static List<Row> rows(JsonObject o) {
        List<Row> out = new ArrayList<>();
        for (Map.Entry<String, JsonElement> m : o.entrySet()) {
            out.add(new Row(label(m.getKey()), value(m.getKey(), m.getValue()), children(m.getValue())));
        }
        return List.copyOf(out);
    }

    private static List<Row> children(JsonElement v) {
        if (v instanceof JsonObject o) {
            return rows(o);
        }
        if (!(v instanceof JsonArray a)) {
            return List.of();
        }
        List<Row> out = new ArrayList<>();
        for (int i = 0; i < a.size(); i++) {
            JsonElement e = a.get(i);
            out.add(e instanceof JsonObject o
                    ? new Row(name(o, i), o.has("state") ? value("state", o.get("state")) : "", rows(o)) //$NON-NLS-1$ //$NON-NLS-2$ //$NON-NLS-3$
                    : new Row("#" + (i + 1), value("", e), List.of())); //$NON-NLS-1$ //$NON-NLS-2$
        }
        return List.copyOf(out);
    }

    /** An element by what it is about: a task (comm and pid), a function, else its place. */
    private static String name(JsonObject o, int i) {
        String comm = Json.str(o, "comm", ""); //$NON-NLS-1$ //$NON-NLS-2$
        String fn = Json.str(o, "function", ""); //$NON-NLS-1$ //$NON-NLS-2$
        String who = o.has("pid") ? comm + " (pid " + Json.lng(o, "pid", 0) + ")" : comm; //$NON-NLS-1$ //$NON-NLS-2$ //$NON-NLS-3$ //$NON-NLS-4$
        who = who.strip();
        return who.isEmpty() ? fn.isEmpty() ? "#" + (i + 1) : fn : fn.isEmpty() ? who : who + " in " + fn; //$NON-NLS-1$ //$NON-NLS-2$
    }

    /** A label inside a sentence: "Period" becomes "period", an acronym (PID, vCPU) stays. */
    private static String lower(String s) {
        return s.length() > 1 && Character.isUpperCase(s.charAt(1)) ? s : s.toLowerCase(java.util.Locale.ROOT);
    }

    private static String headline(JsonObject o) {
        String n = name(o, 0);
        return n.equals("#1") ? "" : n; //$NON-NLS-1$ //$NON-NLS-2$
    }

    /** Members but the ones named, as "Label value" joined by commas. */
    private static String members(JsonObject c, String... skip) {
        List<String> out = new ArrayList<>();
        for (Map.Entry<String, JsonElement> m : c.entrySet()) {
            if (!List.of(skip).contains(m.getKey())) {
                out.add(lower(label(m.getKey())) + " " + value(m.getKey(), m.getValue())); //$NON-NLS-1$
            }
        }
        return String.join(", ", out); //$NON-NLS-1$
    }
}
