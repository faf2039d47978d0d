/**
 * Timeline aggregation: hits bucketed per lane so a million of them draw as a few thousand points.
 */
@NonNullByDefault
package io.hprobe.core.timeline;

import org.eclipse.jdt.annotation.NonNullByDefault;
