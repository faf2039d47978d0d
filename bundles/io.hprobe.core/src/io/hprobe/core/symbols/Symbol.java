package io.hprobe.core.symbols;

/**
 * A guest symbol (sym-search).
 *
 * @param addr runtime address (KASLR slide applied for kernel symbols)
 * @param type nm-style type letter: T/t text, D/d data, ...
 */
public record Symbol(String name, long addr, char type, long size) {

    /** Whether a probe can go there: only code. */
    public boolean isFunction() {
        return type == 'T' || type == 't' || type == 'W' || type == 'w';
    }
}
