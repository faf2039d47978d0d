package io.hprobe.core.model;

import com.google.gson.JsonObject;

import io.hprobe.core.protocol.Json;

/** One guest task from vm-ps (walked from init_task through BTF offsets). */
public record GuestProcess(int pid, int tgid, int ppid, String comm, String state, long cr3, boolean kernel) {

    static GuestProcess fromJson(JsonObject o) {
        return new GuestProcess(Json.integer(o, "pid", -1), Json.integer(o, "tgid", -1), Json.integer(o, "ppid", -1), //$NON-NLS-1$ //$NON-NLS-2$ //$NON-NLS-3$
                Json.str(o, "comm", "?"), Json.str(o, "state", "?"), Json.addr(o, "cr3", 0), //$NON-NLS-1$ //$NON-NLS-2$ //$NON-NLS-3$ //$NON-NLS-4$ //$NON-NLS-5$
                Json.bool(o, "kernel", false)); //$NON-NLS-1$
    }

    /** "comm (pid)", how processes are named across the views. */
    public String label() {
        return comm + " (" + pid + ")"; //$NON-NLS-1$ //$NON-NLS-2$
    }
}
