package io.hprobe.ui.views;

import org.eclipse.jdt.annotation.Nullable;
import org.eclipse.osgi.util.NLS;

import io.hprobe.core.model.LibvirtConnection;
import io.hprobe.core.model.LibvirtDomain;
import io.hprobe.core.model.Vm;
import io.hprobe.ui.Messages;
import io.hprobe.ui.internal.Format;

/**
 * The VM Browser's texts for its libvirt rows (the connection node, its domains) and for the Source column
 * of a VM; null where an element is not one of them. Kept apart so the view holds widgets and actions only.
 */
final class LibvirtRows {

    /**
     * A row of the libvirt node: one domain of a connection. The same row across listings (its state or
     * attachment changed): equal by connection and domain name, so a selection survives a refresh.
     */
    static final class DomainRow {

        final LibvirtConnection connection;
        final LibvirtDomain domain;

        DomainRow(LibvirtConnection connection, LibvirtDomain domain) {
            this.connection = connection;
            this.domain = domain;
        }

        @Override
        public boolean equals(@Nullable Object o) {
            return o instanceof DomainRow r && r.connection == connection && r.domain.name().equals(domain.name());
        }

        @Override
        public int hashCode() {
            return System.identityHashCode(connection) * 31 + domain.name().hashCode();
        }

        @Override
        public String toString() {
            return domain.name();
        }
    }

    private LibvirtRows() {
    }

    static Object[] children(LibvirtConnection c) {
        return c.domains().stream().map(d -> new DomainRow(c, d)).toArray();
    }

    static @Nullable String name(Object e) {
        if (e instanceof LibvirtConnection) {
            return Messages.VmBrowser_libvirt;
        }
        return e instanceof DomainRow r ? r.domain.name() : null;
    }

    /**
     * The node's URI, or why it could not be listed (libvirt's words, naming the URI): seen without hovering.
     * A domain's VM when attached, else its UUID.
     */
    static @Nullable String details(Object e) {
        if (e instanceof LibvirtConnection c) {
            String error = c.error();
            return error != null ? error : c.uri();
        }
        if (e instanceof DomainRow r) {
            String vm = r.domain.attached();
            return vm != null
                    ? NLS.bind(Messages.VmBrowser_domainAttached, vm)
                    : NLS.bind(Messages.VmBrowser_domainUuid, r.domain.uuid());
        }
        return null;
    }

    static @Nullable String state(Object e) {
        if (e instanceof LibvirtConnection c) {
            switch (c.state()) {
                case LISTING :
                    return Messages.VmBrowser_libvirtListing;
                case LISTED :
                    return c.domains().size() == 1
                            ? Messages.VmBrowser_libvirtDomain
                            : NLS.bind(Messages.VmBrowser_libvirtDomains, c.domains().size());
                case FAILED :
                    return Messages.VmBrowser_libvirtFailed;
                default :
                    return Messages.VmBrowser_libvirtNotListed;
            }
        }
        if (e instanceof DomainRow r) {
            return r.connection.isAttaching(r.domain) ? Messages.VmBrowser_domainAttaching : r.domain.state();
        }
        return null;
    }

    /** The node's tooltip: why libvirt could not be listed (libvirt's words), else its URI. */
    static @Nullable String toolTip(Object e) {
        if (e instanceof LibvirtConnection c) {
            String error = c.error();
            return error != null ? error : c.uri();
        }
        return null;
    }

    /** Where a VM comes from (the VM Browser's Source column). */
    static String source(Object e) {
        return e instanceof Vm vm ? Format.source(vm) : ""; //$NON-NLS-1$
    }
}
