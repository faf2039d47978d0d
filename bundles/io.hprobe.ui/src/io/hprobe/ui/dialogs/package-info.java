/**
 * Dialogs: connect to an agent, launch a lab guest, attach to a QEMU, configure a detector.
 */
@NonNullByDefault({ DefaultLocation.RETURN_TYPE, DefaultLocation.FIELD, DefaultLocation.TYPE_BOUND,
        DefaultLocation.TYPE_ARGUMENT })
package io.hprobe.ui.dialogs;

import org.eclipse.jdt.annotation.DefaultLocation;
import org.eclipse.jdt.annotation.NonNullByDefault;
