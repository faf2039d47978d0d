package io.hprobe.core.model;

import org.eclipse.jdt.annotation.Nullable;

import com.google.gson.JsonObject;

/** vm-launch arguments: a lab guest booted by the agent. Zero or null means the agent's default. */
public record LaunchOptions(@Nullable String name, int smp, int memMiB, boolean kaslr) {

    public static LaunchOptions defaults() {
        return new LaunchOptions(null, 0, 0, true);
    }

    JsonObject toJson() {
        JsonObject o = new JsonObject();
        String n = name;
        if (n != null && !n.isBlank()) {
            o.addProperty("name", n.trim()); //$NON-NLS-1$
        }
        if (smp > 0) {
            o.addProperty("smp", smp); //$NON-NLS-1$
        }
        if (memMiB > 0) {
            o.addProperty("mem", memMiB); //$NON-NLS-1$
        }
        if (!kaslr) {
            o.addProperty("kaslr", false); //$NON-NLS-1$
        }
        return o;
    }
}
