/**
 * The trace export wizard.
 */
@NonNullByDefault({ DefaultLocation.RETURN_TYPE, DefaultLocation.FIELD, DefaultLocation.TYPE_BOUND,
        DefaultLocation.TYPE_ARGUMENT })
package io.hprobe.ui.wizards;

import org.eclipse.jdt.annotation.DefaultLocation;
import org.eclipse.jdt.annotation.NonNullByDefault;
