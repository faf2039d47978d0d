package io.hprobe.core.model;

import org.eclipse.jdt.annotation.Nullable;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;

import io.hprobe.core.protocol.Json;

/**
 * Where a VM comes from and how the agent reaches its QEMU: the {@code source} of a VM summary (vm-list,
 * vm-launch, vm-attach). A field the kind does not have is null; pid is 0 when unknown.
 *
 * @param kind   {@link #LAB}, {@link #OWN}, {@link #QMP}, {@link #LIBVIRT}, or "" when the agent said nothing
 * @param uri    a libvirt domain's connection URI
 * @param domain a libvirt domain's name
 * @param uuid   a libvirt domain's UUID
 * @param path   the QMP socket of a QEMU attached by it
 * @param pid    QEMU's process id
 */
public record VmSource(String kind, @Nullable String uri, @Nullable String domain, @Nullable String uuid,
        @Nullable String path, long pid) {

    /** The lab guest, launched by the agent. */
    public static final String LAB = "lab"; //$NON-NLS-1$
    /** The user's own kernel or disk, launched by the agent. */
    public static final String OWN = "own"; //$NON-NLS-1$
    /** A running QEMU attached through its QMP socket. */
    public static final String QMP = "qmp"; //$NON-NLS-1$
    /** A libvirt domain attached through libvirt. */
    public static final String LIBVIRT = "libvirt"; //$NON-NLS-1$

    /** No source known (an older agent, a journal opened offline). */
    public static final VmSource UNKNOWN = new VmSource("", null, null, null, null, 0); //$NON-NLS-1$

    static VmSource fromJson(@Nullable JsonElement e) {
        if (!(e instanceof JsonObject o)) {
            return UNKNOWN;
        }
        return new VmSource(Json.str(o, "kind", ""), Json.strOrNull(o, "uri"), Json.strOrNull(o, "domain"), //$NON-NLS-1$ //$NON-NLS-2$ //$NON-NLS-3$ //$NON-NLS-4$
                Json.strOrNull(o, "uuid"), Json.strOrNull(o, "path"), Json.lng(o, "pid", 0)); //$NON-NLS-1$ //$NON-NLS-2$ //$NON-NLS-3$
    }

    public boolean isLibvirt() {
        return LIBVIRT.equals(kind);
    }

    /** Whether this VM is the libvirt domain d of the connection uri (by UUID when both have one, else name). */
    public boolean isDomain(@Nullable String connection, LibvirtDomain d) {
        if (!isLibvirt() || (connection != null && uri != null && !connection.equals(uri))) {
            return false;
        }
        String u = uuid;
        if (u != null && !u.isEmpty() && !d.uuid().isEmpty()) {
            return u.equalsIgnoreCase(d.uuid());
        }
        return d.name().equals(domain) || d.uuid().equals(domain);
    }
}
