/**
 * Saved journals through libhprobe (JNA): offline reading and the trace exporters.
 */
@NonNullByDefault
package io.hprobe.core.journal;

import org.eclipse.jdt.annotation.NonNullByDefault;
