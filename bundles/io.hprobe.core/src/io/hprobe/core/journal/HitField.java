package io.hprobe.core.journal;

/**
 * One field of a hit, a row of libhprobe's one hit field table (native/lib/include/hprobe/hit.h): the live
 * stream, every export, the CLI and the workbench's tables follow it.
 *
 * @param name     JSON key, CSV column, CTF field
 * @param inStream in the agent's hit batches and hits-read
 * @param inExport in the exports (JSON Lines, CSV, Chrome, CTF)
 * @param optional may be absent from a hit (the task when it could not be identified, memory, registers)
 * @param title    a table column's heading
 * @param doc      one line, for tooltips and the docs
 */
public record HitField(String name, Type type, boolean inStream, boolean inExport, boolean optional, String title,
        String doc) {

    /** enum hp_hf_type, in its order. */
    public enum Type {
        /** unsigned 64-bit number */
        UINT,
        /** signed number */
        INT,
        /** a guest address */
        ADDR,
        /** text: a guest's bytes escaped, or a probe spec */
        TEXT, BOOL,
        /** up to six unsigned integers */
        ARGS,
        /** captured memory, hex */
        BYTES,
        /** the registers by name */
        REGS,
    }
}
