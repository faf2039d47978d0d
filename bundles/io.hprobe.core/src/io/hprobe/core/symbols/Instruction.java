package io.hprobe.core.symbols;

/**
 * One disassembled instruction (sym-disas).
 *
 * @param target   branch target, or -1
 * @param backEdge a branch to an earlier address in the same function: a loop
 */
public record Instruction(long addr, String bytes, String text, long target, boolean backEdge) {
}
