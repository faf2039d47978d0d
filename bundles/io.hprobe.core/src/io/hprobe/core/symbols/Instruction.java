package io.hprobe.core.symbols;

/**
 * One disassembled instruction (sym-disas).
 *
 * @param target    branch target, or -1
 * @param backEdge  a branch to an earlier address in the same function: a loop
 * @param targetSym the target as func+0xoff, or "" when no function holds it
 */
public record Instruction(long addr, String bytes, String text, long target, boolean backEdge, String targetSym) {

    /** The instruction as objdump shows it: its text, then the target's name in angle brackets. */
    public String display() {
        return targetSym.isEmpty() ? text : text + " <" + targetSym + ">"; //$NON-NLS-1$ //$NON-NLS-2$
    }
}
