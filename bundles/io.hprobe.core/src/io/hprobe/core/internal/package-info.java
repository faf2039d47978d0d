/**
 * Implementation details of io.hprobe.core; not API (x-internal in the manifest).
 */
@NonNullByDefault
package io.hprobe.core.internal;

import org.eclipse.jdt.annotation.NonNullByDefault;
