/**
 * The observable model of agents, VMs, processes, probes, hits, detectors and alerts, updated from pushed events.
 */
@NonNullByDefault
package io.hprobe.core.model;

import org.eclipse.jdt.annotation.NonNullByDefault;
