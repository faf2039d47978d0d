/**
 * HProbe workbench UI: shared UI pieces (messages) of the views in {@code io.hprobe.ui.views}.
 * <p>
 * Null defaults leave out parameters: nearly every method here overrides an unannotated platform callback
 * (createPartControl, createInitialLayout, ...), whose parameters may not be narrowed to non-null.
 */
@NonNullByDefault({ DefaultLocation.RETURN_TYPE, DefaultLocation.FIELD, DefaultLocation.TYPE_BOUND,
        DefaultLocation.TYPE_ARGUMENT })
package io.hprobe.ui;

import org.eclipse.jdt.annotation.DefaultLocation;
import org.eclipse.jdt.annotation.NonNullByDefault;
