"""Shared by the export checkers: the expected hits written by hp_mkjournal and an
independent implementation of the comm escaping rule of docs/journal.md."""
import json

SPECS = {1: "kernel:do_sys_openat2", 2: "user:hb:heartbeat", 3: 'kernel:odd"name,x\n'}
REGS = ["rax", "rbx", "rcx", "rdx", "rsi", "rdi", "rbp", "rsp", "r8", "r9", "r10", "r11",
        "r12", "r13", "r14", "r15", "rip", "rflags", "cr3", "gs_base", "k_gs_base"]
MONO_BASE = 5000000000
HIT_USER, HIT_REGS, HIT_TASK, HIT_BLOCKED = 1, 2, 4, 8


def spec(probe):
    return SPECS.get(probe, "#%d" % probe)


def escape(b):
    """Printable UTF-8 kept; backslash doubled; every other byte as \\xNN."""
    out, i = [], 0
    while i < len(b):
        c = b[i]
        n = 1 if c < 0x80 else 2 if c >> 5 == 6 else 3 if c >> 4 == 14 else 4 if c >> 3 == 30 else 0
        ch = None
        if n and i + n <= len(b):
            try:
                ch = b[i:i + n].decode("utf-8")
            except UnicodeDecodeError:
                ch = None
        if ch is not None and ch != "\\" and ord(ch) >= 0x20 and ord(ch) != 0x7F \
                and not 0x80 <= ord(ch) < 0xA0:
            out.append(ch)
            i += n
        elif ch == "\\":
            out.append("\\\\")
            i += 1
        else:
            out.append("\\x%02x" % c)
            i += 1
    return "".join(out)


def load(path):
    hits = []
    with open(path) as f:
        for line in f:
            h = json.loads(line)
            h["comm"] = escape(bytes.fromhex(h["comm_hex"]))
            h["rel_ns"] = h["time_ns"] - MONO_BASE
            h["spec"] = spec(h["probe"])
            hits.append(h)
    return hits
