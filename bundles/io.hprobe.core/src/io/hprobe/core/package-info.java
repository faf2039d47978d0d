/**
 * Headless HProbe client API: what the workbench and scripts share. No SWT, no org.eclipse.ui.
 */
@NonNullByDefault
package io.hprobe.core;

import org.eclipse.jdt.annotation.NonNullByDefault;
