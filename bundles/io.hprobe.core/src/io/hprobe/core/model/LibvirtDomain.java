package io.hprobe.core.model;

import org.eclipse.jdt.annotation.Nullable;

import com.google.gson.JsonObject;

import io.hprobe.core.protocol.Json;

/**
 * One domain of a libvirt connection, as libvirt-list reports it.
 *
 * @param state    libvirt's words: "running", "paused", "shut off", ...
 * @param id       the domain's id while it runs, -1 otherwise
 * @param attached the name of the agent's VM this domain is attached as, or null
 */
public record LibvirtDomain(String name, String uuid, String state, int id, boolean running,
        @Nullable String attached) {

    static LibvirtDomain fromJson(JsonObject o) {
        return new LibvirtDomain(Json.str(o, "name", "?"), Json.str(o, "uuid", ""), Json.str(o, "state", "?"), //$NON-NLS-1$ //$NON-NLS-2$ //$NON-NLS-3$ //$NON-NLS-4$ //$NON-NLS-5$ //$NON-NLS-6$
                Json.integer(o, "id", -1), Json.bool(o, "running", false), Json.strOrNull(o, "attached")); //$NON-NLS-1$ //$NON-NLS-2$ //$NON-NLS-3$
    }

    public boolean isAttached() {
        return attached != null;
    }

    /** A running domain no VM of the agent is attached to: what an attach can take. */
    public boolean canAttach() {
        return running && attached == null;
    }
}
