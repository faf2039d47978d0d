/**
 * UI plumbing shared by the views: jobs, error dialogs, throttled refresh, label helpers. Not API.
 */
@NonNullByDefault({ DefaultLocation.RETURN_TYPE, DefaultLocation.FIELD, DefaultLocation.TYPE_BOUND,
        DefaultLocation.TYPE_ARGUMENT })
package io.hprobe.ui.internal;

import org.eclipse.jdt.annotation.DefaultLocation;
import org.eclipse.jdt.annotation.NonNullByDefault;
