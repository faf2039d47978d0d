package io.hprobe.core.model;

import org.eclipse.jdt.annotation.Nullable;

/**
 * What changed in the model. Listeners re-read what they show from the model; the change only says where
 * to look, so a burst of changes can be coalesced.
 */
public record ModelChange(Kind kind, @Nullable Agent agent, @Nullable Vm vm) {

    public enum Kind {
        /** agents or offline journals added or removed */
        SESSIONS,
        /** an agent connected, disconnected or is reconnecting */
        CONNECTION,
        /** VMs of an agent appeared or went away */
        VMS,
        /** a VM's state, accelerator, kernel... */
        VM_INFO, PROCESSES, PROBES,
        /** new hits in a VM's store */
        HITS, DETECTORS, ALERTS, CONSOLE,
        /** the domains of an agent's libvirt connection were listed again, or its URI changed */
        LIBVIRT,
    }
}
