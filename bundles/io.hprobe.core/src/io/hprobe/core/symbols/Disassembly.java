package io.hprobe.core.symbols;

import java.util.ArrayList;
import java.util.List;

import com.google.gson.JsonObject;

import io.hprobe.core.protocol.Json;

/** A function's disassembly as sym-disas gives it, with back-edges marked by the agent. */
public record Disassembly(String function, long addr, long size, List<Instruction> instructions) {

    public static Disassembly fromJson(JsonObject o) {
        List<Instruction> insns = new ArrayList<>();
        for (JsonObject i : Json.objects(o.get("insns"))) { //$NON-NLS-1$
            insns.add(new Instruction(Json.addr(i, "addr", 0), Json.str(i, "bytes", ""), Json.str(i, "text", ""), //$NON-NLS-1$ //$NON-NLS-2$ //$NON-NLS-3$ //$NON-NLS-4$ //$NON-NLS-5$ //$NON-NLS-6$
                    Json.addr(i, "target", -1), Json.bool(i, "back_edge", false), //$NON-NLS-1$ //$NON-NLS-2$
                    Json.str(i, "target_sym", ""))); //$NON-NLS-1$ //$NON-NLS-2$
        }
        return new Disassembly(Json.str(o, "function", "?"), Json.addr(o, "addr", 0), Json.lng(o, "size", 0), //$NON-NLS-1$ //$NON-NLS-2$ //$NON-NLS-3$ //$NON-NLS-4$
                List.copyOf(insns));
    }

    /** Index of the instruction a back-edge jumps to, for every back-edge: the loops of the function. */
    public boolean isLoopHead(long address) {
        for (Instruction i : instructions) {
            if (i.backEdge() && i.target() == address) {
                return true;
            }
        }
        return false;
    }

    /** The probe spec for an instruction: FUNC at the entry, FUNC+0xOFF inside; kernel or app:BINARY. */
    public String specAt(long address, String binary) {
        long off = address - addr;
        String where = off == 0 ? function : function + "+0x" + Long.toHexString(off); //$NON-NLS-1$
        return binary.isEmpty() ? "kernel:" + where : "app:" + binary + ":" + where; //$NON-NLS-1$ //$NON-NLS-2$ //$NON-NLS-3$
    }
}
