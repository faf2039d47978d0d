/**
 * Undoable operations (Eclipse operation history): adding and removing probes.
 */
@NonNullByDefault({ DefaultLocation.RETURN_TYPE, DefaultLocation.FIELD, DefaultLocation.TYPE_BOUND,
        DefaultLocation.TYPE_ARGUMENT })
package io.hprobe.ui.operations;

import org.eclipse.jdt.annotation.DefaultLocation;
import org.eclipse.jdt.annotation.NonNullByDefault;
