package io.hprobe.core.model;

import org.eclipse.jdt.annotation.Nullable;

import com.google.gson.JsonObject;

import io.hprobe.core.protocol.Json;

/**
 * A VM's facts as vm-list / vm-launch / vm-attach report them.
 *
 * @param state   starting, running, paused, dead (or "offline" for a saved journal)
 * @param journal the journal's path on the agent's host
 * @param source  where the VM comes from: the lab, the user's own guest, a QMP socket, a libvirt domain
 */
public record VmInfo(String name, String state, String accel, int smp, String qemu, String kernel, long slide,
        boolean launched, @Nullable String journal, @Nullable String reason, VmSource source) {

    public static final String OFFLINE = "offline"; //$NON-NLS-1$

    static VmInfo fromJson(JsonObject o) {
        return new VmInfo(Json.str(o, "name", "?"), Json.str(o, "state", "?"), Json.str(o, "accel", ""), //$NON-NLS-1$ //$NON-NLS-2$ //$NON-NLS-3$ //$NON-NLS-4$ //$NON-NLS-5$ //$NON-NLS-6$
                Json.integer(o, "smp", 0), Json.str(o, "qemu", ""), Json.str(o, "kernel", ""), Json.addr(o, "slide", 0), //$NON-NLS-1$ //$NON-NLS-2$ //$NON-NLS-3$ //$NON-NLS-4$ //$NON-NLS-5$ //$NON-NLS-6$ //$NON-NLS-7$
                Json.bool(o, "launched", false), Json.strOrNull(o, "journal"), Json.strOrNull(o, "reason"), //$NON-NLS-1$ //$NON-NLS-2$ //$NON-NLS-3$
                VmSource.fromJson(o.get("source"))); //$NON-NLS-1$
    }

    VmInfo withState(String newState, @Nullable String why) {
        return new VmInfo(name, newState, accel, smp, qemu, kernel, slide, launched, journal, why, source);
    }

    public boolean isRunning() {
        return "running".equals(state); //$NON-NLS-1$
    }

    public boolean isPaused() {
        return "paused".equals(state); //$NON-NLS-1$
    }

    public boolean isDead() {
        return "dead".equals(state); //$NON-NLS-1$
    }
}
