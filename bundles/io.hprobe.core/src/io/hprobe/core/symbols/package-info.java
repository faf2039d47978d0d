/**
 * Guest symbols and disassembly: a local index for instant search, and the parsed sym-disas listing.
 */
@NonNullByDefault
package io.hprobe.core.symbols;

import org.eclipse.jdt.annotation.NonNullByDefault;
