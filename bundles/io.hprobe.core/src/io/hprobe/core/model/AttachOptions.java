package io.hprobe.core.model;

import org.eclipse.jdt.annotation.Nullable;

import com.google.gson.JsonObject;

/** vm-attach arguments: a running QEMU reached through its QMP socket. Blank means "not given". */
public record AttachOptions(String qmp, @Nullable String name, @Nullable String symbols, @Nullable String vmlinux) {

    JsonObject toJson() {
        JsonObject o = new JsonObject();
        o.addProperty("qmp", qmp.trim()); //$NON-NLS-1$
        put(o, "name", name); //$NON-NLS-1$
        put(o, "symbols", symbols); //$NON-NLS-1$
        put(o, "vmlinux", vmlinux); //$NON-NLS-1$
        return o;
    }

    private static void put(JsonObject o, String key, @Nullable String v) {
        if (v != null && !v.isBlank()) {
            o.addProperty(key, v.trim());
        }
    }
}
