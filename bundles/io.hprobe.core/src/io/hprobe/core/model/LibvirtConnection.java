package io.hprobe.core.model;

import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;

import org.eclipse.jdt.annotation.Nullable;

import io.hprobe.core.protocol.AgentException;

/**
 * The libvirt connection an agent lists domains of (libvirt-list), and attaches them from (vm-attach with
 * "libvirt"): its URI, the domains of its last listing, or why that listing failed in the agent's words.
 * One per {@link Agent}; it lists again on each new connection to the agent, after an attach or a detach of
 * one of its domains, and when asked ({@link #refresh()}). Changes are signalled as
 * {@link ModelChange.Kind#LIBVIRT}.
 */
public final class LibvirtConnection {

    /** The system's libvirtd: where virt-manager and virsh (as root) keep their domains. */
    public static final String DEFAULT_URI = "qemu:///system"; //$NON-NLS-1$

    public enum State {
        /** not asked yet (no connection to the agent yet) */
        NOT_LISTED,
        /** a libvirt-list is on its way */
        LISTING,
        /** {@link #domains()} are the last listing's */
        LISTED,
        /** the last listing failed: {@link #error()} says why */
        FAILED,
    }

    private final Agent agent;
    private final HProbeModel model;
    /** Guarded by this. */
    private String uri = DEFAULT_URI;
    private List<LibvirtDomain> domains = List.of();
    private State state = State.NOT_LISTED;
    private @Nullable String error;
    private @Nullable String errorClass;
    /** Names of the domains an attach is under way for. */
    private final Set<String> attaching = new HashSet<>();
    /** Counts listings, so that an old reply never overwrites a newer one (or one of another URI). */
    private long generation;

    LibvirtConnection(Agent agent, HProbeModel model) {
        this.agent = agent;
        this.model = model;
    }

    public Agent agent() {
        return agent;
    }

    /** The connection URI (libvirt's, e.g. qemu:///system, qemu:///session, qemu+ssh://host/system). */
    public synchronized String uri() {
        return uri;
    }

    /**
     * Sets the connection URI (blank: {@link #DEFAULT_URI}). The domains of another URI are dropped; call
     * {@link #refresh()} to list the new one's.
     */
    public void setUri(String newUri) {
        String u = newUri.isBlank() ? DEFAULT_URI : newUri.trim();
        synchronized (this) {
            if (u.equals(uri)) {
                return;
            }
            uri = u;
            generation++;
            domains = List.of();
            state = State.NOT_LISTED;
            error = null;
            errorClass = null;
        }
        fire();
    }

    /** The domains of the last listing (empty before one, or after it failed). */
    public synchronized List<LibvirtDomain> domains() {
        return domains;
    }

    public synchronized @Nullable LibvirtDomain domain(String name) {
        for (LibvirtDomain d : domains) {
            if (d.name().equals(name)) {
                return d;
            }
        }
        return null;
    }

    public synchronized State state() {
        return state;
    }

    /** Why the last listing failed (the agent's error text), or null. */
    public synchronized @Nullable String error() {
        return error;
    }

    /** The agent's error class of the last failed listing (e.g. IoError: libvirtd down), or null. */
    public synchronized @Nullable String errorClass() {
        return errorClass;
    }

    /** Lists the domains again (libvirt-list); the future gives them, or fails as the listing did. */
    public CompletableFuture<List<LibvirtDomain>> refresh() {
        return agent.listLibvirtDomains(uri());
    }

    /**
     * Attaches a domain of this connection; the VM it becomes, once the domains are listed again. While it
     * runs the domain is {@link #isAttaching attaching}. By its name: the VM takes the domain's name.
     *
     * @param plugin false to go without the in-QEMU tier (probes on the gdbstub only) when the domain's QEMU
     *               has our TCG plugin on its command line
     */
    public CompletableFuture<Vm> attach(LibvirtDomain domain, boolean plugin) {
        String key = domain.name();
        synchronized (this) {
            attaching.add(key);
        }
        fire();
        return agent.attachLibvirt(key, uri(), null, plugin).whenComplete((vm, e) -> {
            synchronized (this) {
                attaching.remove(key);
            }
            fire();
        });
    }

    /** Whether an attach of this domain is under way. */
    public synchronized boolean isAttaching(LibvirtDomain domain) {
        return attaching.contains(domain.name());
    }

    /** The agent's VM a domain is attached as, or null. */
    public @Nullable Vm vmOf(LibvirtDomain domain) {
        String name = domain.attached();
        return name == null ? null : agent.vm(name);
    }

    // ---- updated by the agent's calls ----

    /** A listing of u starts: its generation, or -1 when u is not this connection's URI. */
    long listing(String u) {
        long gen;
        synchronized (this) {
            if (!u.equals(uri)) {
                return -1;
            }
            state = State.LISTING;
            gen = ++generation;
        }
        fire();
        return gen;
    }

    void listed(long gen, List<LibvirtDomain> list) {
        synchronized (this) {
            if (gen != generation) {
                return;
            }
            domains = List.copyOf(list);
            state = State.LISTED;
            error = null;
            errorClass = null;
        }
        fire();
    }

    void failed(long gen, Throwable t) {
        AgentException a = AgentException.unwrap(t);
        synchronized (this) {
            if (gen != generation) {
                return;
            }
            domains = List.of();
            state = State.FAILED;
            error = a != null ? a.desc() : String.valueOf(t.getMessage());
            errorClass = a != null ? a.errorClass() : null;
        }
        fire();
    }

    private void fire() {
        model.fire(ModelChange.Kind.LIBVIRT, agent, null);
    }

    @Override
    public String toString() {
        return "libvirt " + uri(); //$NON-NLS-1$
    }
}
