/**
 * The hprobed protocol client: newline JSON over a Unix socket, replies by id, pushed events (docs/protocol.md).
 */
@NonNullByDefault
package io.hprobe.core.protocol;

import org.eclipse.jdt.annotation.NonNullByDefault;
