"""Shared by the export checkers: the expected hits written by hp_mkjournal and an
independent implementation of the comm escaping rule of docs/journal.md."""
import ctypes
import json

SPECS = {1: "kernel:do_sys_openat2", 2: "user:hb:heartbeat", 3: 'kernel:odd"name,x\n'}
REGS = ["rax", "rbx", "rcx", "rdx", "rsi", "rdi", "rbp", "rsp", "r8", "r9", "r10", "r11",
        "r12", "r13", "r14", "r15", "rip", "rflags", "cr3", "gs_base", "k_gs_base"]
MONO_BASE = 5000000000
IP_NAME_MAX = 256  # export_int.h's HPI_IP_NAME_MAX
HIT_USER, HIT_REGS, HIT_TASK, HIT_BLOCKED, HIT_MEM, HIT_RET = 1, 2, 4, 8, 16, 32
# the hit fields of docs/journal.md, in export order (CSV columns: args as arg0..arg5)
CSV_HEADER = ["seq", "time_ns", "rel_ns", "probe", "spec", "vcpu", "pid", "tgid", "comm", "ip", "ip_name", "cr3",
              "user", "blocked", "retval", "latency_ns", "named_ret", "arg0", "arg1", "arg2", "arg3", "arg4", "arg5",
              "named_args", "memaddr", "mem", "regs"]
# the parameters as hp_mkjournal's PROBE records name them (name, class, size)
PARAMS = {1: [("dfd", "int", 4), ("filename", "str", 8), ("how", "uint", 4)],
          2: [("event", "uint", 2), ("x", "ptr", 8), ("x_tag", "int", 1)]}
# their return types (class, size, whether < 0 is -errno)
RETS = {1: ("int", 8, True), 2: ("uint", 4, False)}
_libc = ctypes.CDLL(None)
_libc.strerrorname_np.restype = ctypes.c_char_p


def named_args(h):
    """The arguments by name (docs/journal.md): a value read as its parameter's class,
    argN=0x... past the known parameters or for a probe whose parameters are unknown."""
    ps, out = PARAMS.get(h["probe"], []), []
    for i, v in enumerate(h["args"]):
        if i < len(ps):
            name, cls, size = ps[i]
            low = v & ((1 << (8 * size)) - 1)
            if cls == "int":
                out.append("%s=%d" % (name, low - (1 << (8 * size)) if low >> (8 * size - 1) else low))
            elif cls == "uint":
                out.append("%s=%d" % (name, low))
            elif cls == "str" and h["flags"] & HIT_MEM and h["mem"] and h["memaddr"] == v:
                out.append('%s="%s"' % (name, escape(bytes.fromhex(h["mem"]).split(b"\0")[0])))
            else:
                out.append("%s=%s" % (name, hex(v)))
        else:
            out.append("arg%d=%s" % (i + 1, hex(v)))
    return " ".join(out)


def named_ret(h):
    """A return probe's value as its function's type reads it, -errno named (docs/journal.md)."""
    cls, size, is_errno = RETS.get(h["probe"], ("int", 8, False))
    v = h["retval"] & ((1 << (8 * size)) - 1)
    if cls == "int" and v >> (8 * size - 1):
        v -= 1 << (8 * size)
    name = _libc.strerrorname_np(-v) if is_errno and -4095 <= v < 0 else None
    return "%d %s" % (v, name.decode()) if name else str(v)


def spec(probe):
    return SPECS.get(probe, "#%d" % probe)


def escape(b, cap=None):
    """Printable UTF-8 kept; backslash doubled; every other byte as \\xNN; whole units
    up to cap - 1 bytes when cut (hp_export__escape)."""
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
        if cap is not None and len("".join(out).encode()) > cap - 1:
            out.pop()
            break
    return "".join(out)


def jsonl_object(h, hex_args=False):
    """The export's JSON object for a hit (docs/journal.md): an unknown task is null,
    registers and memory appear when captured."""
    task = bool(h["flags"] & HIT_TASK)
    o = {"seq": h["seq"], "time_ns": h["time_ns"], "rel_ns": h["rel_ns"], "probe": h["probe"], "spec": h["spec"],
         "vcpu": h["vcpu"], "pid": h["pid"] if task else None, "tgid": h["tgid"] if task else None,
         "comm": h["comm"] if task else None, "ip": hex(h["ip"]), "cr3": hex(h["cr3"]),
         "user": bool(h["flags"] & HIT_USER), "blocked": bool(h["flags"] & HIT_BLOCKED)}
    if h["ip_name"] is not None:
        o["ip_name"] = h["ip_name"]
    if h["flags"] & HIT_RET:
        o["retval"] = h["retval"]
        o["latency_ns"] = h["latency_ns"]
        o["named_ret"] = named_ret(h)
    o["args"] = ( [hex(a) for a in h["args"]] if hex_args else h["args"])
    if h["args"]:
        o["named_args"] = named_args(h)
    if h["flags"] & HIT_MEM:
        o["memaddr"] = hex(h["memaddr"])
        o["mem"] = h["mem"]
    if h["regs"]:
        o["regs"] = {n: hex(v) for n, v in zip(REGS, h["regs"])}
    return o


def csv_text(s):
    """A text cell as a spreadsheet must not run it: a formula's first character behind a '."""
    return "'" + s if s[:1] in ("=", "+", "-", "@", "\t", "\r") else s


def load(path):
    hits = []
    with open(path) as f:
        for line in f:
            h = json.loads(line)
            h["comm"] = escape(bytes.fromhex(h["comm_hex"]))
            # an IP's name as the journal's IP_NAME events give it (escaped, cut to 256 bytes)
            raw = h.pop("ip_name_hex")
            h["ip_name"] = escape(bytes.fromhex(raw), IP_NAME_MAX) if raw is not None else None
            h["rel_ns"] = h["time_ns"] - MONO_BASE
            h["spec"] = spec(h["probe"])
            hits.append(h)
    return hits
