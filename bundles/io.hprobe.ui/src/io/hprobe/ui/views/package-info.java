/**
 * The HProbe views declared in plugin.xml. Views hold widgets and forward user actions; state comes from
 * the io.hprobe.core model, never from another view.
 * <p>
 * Null defaults leave out parameters: nearly every method here overrides an unannotated platform callback
 * (createPartControl, createInitialLayout, ...), whose parameters may not be narrowed to non-null.
 */
@NonNullByDefault({ DefaultLocation.RETURN_TYPE, DefaultLocation.FIELD, DefaultLocation.TYPE_BOUND,
        DefaultLocation.TYPE_ARGUMENT })
package io.hprobe.ui.views;

import org.eclipse.jdt.annotation.DefaultLocation;
import org.eclipse.jdt.annotation.NonNullByDefault;
