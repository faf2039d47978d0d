"""Reading hit journals offline, through libhprobe (ctypes): no agent needed.

The journal's format (docs/journal.md) is read by the library the agent writes it
with, not by a second parser here: its checks (CRCs, lengths, a crash tail) and its
hit field table (hp_hit__json) are the ones the exports use, so a hit reads here
exactly as in `hprobe export --format jsonl`.

libhprobe.so is found by find_library(): $HPROBE_LIB (the library's path), else
next to the hprobe CLI found on PATH (its ../lib/, as a build tree and an install
under a prefix have it), else the system's loader (ldconfig, LD_LIBRARY_PATH).
"""
import ctypes
import ctypes.util
import json
import os
import re
import shutil

from .errors import JournalError, LibraryNotFound

HP_HF_IN_STREAM, HP_HF_IN_EXPORT = 0x1, 0x2
HP_HIT_TEXT_MAX = 8192
RECORD_TYPES = {1: "hit", 2: "probe", 3: "event", 4: "alert", 5: "dropped", 6: "count"}


class _Dropped(ctypes.Structure):
    _fields_ = [("probe_id", ctypes.c_uint32), ("count", ctypes.c_uint64), ("time_ns", ctypes.c_uint64)]


class _Count(ctypes.Structure):
    _fields_ = [("probe_id", ctypes.c_uint32), ("vcpu", ctypes.c_uint32), ("count", ctypes.c_uint64),
                ("first_ns", ctypes.c_uint64), ("last_ns", ctypes.c_uint64)]


def _record_type(record_size):
    """struct hp_record for a library whose record is record_size bytes: seq, type,
    time_ns, the union u (a struct hp_hit, hp_dropped or hp_count), json, json_len.
    A hit is never decoded here (hp_hit__json renders it from the library's own field
    table), so the union is opaque bytes whose size follows the library's: a hit field
    added to libhprobe (struct hp_hit grows at its end) needs no change here."""
    u_size = record_size - 24 - 16  # the header before u; json (8) and json_len (4) + padding after it
    if u_size < ctypes.sizeof(_Count) or u_size % 8:
        return None

    class _U(ctypes.Union):
        _fields_ = [("raw", ctypes.c_uint8 * u_size), ("dropped", _Dropped), ("count", _Count)]

    class _Record(ctypes.Structure):
        _fields_ = [("seq", ctypes.c_uint64), ("type", ctypes.c_int), ("time_ns", ctypes.c_uint64), ("u", _U),
                    ("json", ctypes.c_char_p), ("json_len", ctypes.c_uint32)]

    return _Record if ctypes.sizeof(_Record) == record_size else None


# struct hp_hit's first members (they keep their offsets: docs/journal.md), for the
# probe id, time and IP a hit's context needs
_HIT_TIME_NS, _HIT_PROBE_ID, _HIT_IP = 0, 8, 40
# IPs' names as the exports keep them (export_int.h): escaped, cut, bounded
_IP_NAME_MAX, _IP_NAMES_MAX = 256, 65536


class _Meta(ctypes.Structure):
    _fields_ = [("session", ctypes.c_char * 64), ("vm_name", ctypes.c_char * 64), ("kernel", ctypes.c_char * 128),
                ("created_ns", ctypes.c_uint64), ("mono_base_ns", ctypes.c_uint64)]


class _Err(ctypes.Structure):
    _fields_ = [("msg", ctypes.c_char * 256)]


class _Param(ctypes.Structure):
    _fields_ = [("name", ctypes.c_char * 32), ("type", ctypes.c_char * 64), ("cls", ctypes.c_int),
                ("size", ctypes.c_uint32)]


class _HitCtx(ctypes.Structure):
    # params NULL: the probe's parameters are unknown (named_args then reads arg1=0x...);
    # ret NULL: its return type is unknown (named_ret then reads the signed value)
    _fields_ = [("seq", ctypes.c_uint64), ("rel_ns", ctypes.c_int64), ("spec", ctypes.c_char_p),
                ("params", ctypes.POINTER(_Param)), ("nparams", ctypes.c_int), ("ret", ctypes.POINTER(_Param)),
                ("ret_errno", ctypes.c_int), ("ip_name", ctypes.c_char_p)]


class _Field(ctypes.Structure):
    _fields_ = [("name", ctypes.c_char_p), ("type", ctypes.c_int), ("in_", ctypes.c_uint), ("optional", ctypes.c_int),
                ("title", ctypes.c_char_p), ("doc", ctypes.c_char_p)]


def find_library():
    """The path of libhprobe.so to load (see the module's doc), or raises LibraryNotFound."""
    env = os.environ.get("HPROBE_LIB")
    if env:
        if not os.path.exists(env):
            raise LibraryNotFound("HPROBE_LIB=%s: no such file" % env)
        return env
    cli = shutil.which("hprobe")
    if cli:
        bindir = os.path.dirname(os.path.realpath(cli))
        for d in (os.path.join(bindir, "..", "lib"), os.path.join(bindir, "..", "lib64"), bindir):
            for name in ("libhprobe.so", "libhprobe.so.0"):
                p = os.path.normpath(os.path.join(d, name))
                if os.path.exists(p):
                    return p
    found = ctypes.util.find_library("hprobe")
    if found:
        return found
    raise LibraryNotFound("libhprobe.so not found: set HPROBE_LIB to its path, or put the hprobe CLI of a build "
                          "or an install (with libhprobe in its ../lib) on PATH")


_lib = None


def library():
    """libhprobe, loaded once, its ABI checked against the structures here."""
    global _lib
    if _lib is not None:
        return _lib
    path = find_library()
    try:
        lib = ctypes.CDLL(path)
    except OSError as e:
        raise LibraryNotFound("cannot load %s: %s" % (path, e)) from None
    P = ctypes.c_void_p
    lib.hp_version.restype = ctypes.c_char_p
    lib.hp_version.argtypes = []
    lib.hp_record__size.restype = ctypes.c_size_t
    lib.hp_journal_meta__size.restype = ctypes.c_size_t
    lib.hp_journal__open.restype = ctypes.c_int
    lib.hp_journal__open.argtypes = [ctypes.c_char_p, ctypes.POINTER(P), ctypes.POINTER(_Err)]
    lib.hp_journal__meta.restype = ctypes.POINTER(_Meta)
    lib.hp_journal__meta.argtypes = [P]
    lib.hp_journal__seek.restype = ctypes.c_int
    lib.hp_journal__seek.argtypes = [P, ctypes.c_uint64, ctypes.POINTER(_Err)]
    lib.hp_journal__next.restype = ctypes.c_int
    lib.hp_journal__next.argtypes = [P, P, ctypes.POINTER(_Err)]
    lib.hp_journal__truncated.restype = ctypes.c_int
    lib.hp_journal__truncated.argtypes = [P, ctypes.POINTER(ctypes.c_uint64)]
    lib.hp_journal__close_reader.restype = None
    lib.hp_journal__close_reader.argtypes = [P]
    lib.hp_hit__json.restype = ctypes.c_size_t
    lib.hp_hit__json.argtypes = [P, ctypes.POINTER(_HitCtx), ctypes.c_uint, ctypes.c_char_p, ctypes.c_size_t]
    lib.hp_export__escape.restype = ctypes.c_size_t
    lib.hp_export__escape.argtypes = [ctypes.c_char_p, ctypes.c_size_t, ctypes.c_char_p, ctypes.c_size_t]
    lib.hp_hit__fields.restype = ctypes.POINTER(_Field)
    lib.hp_hit__fields.argtypes = []
    lib.hp_param__list_of_text.restype = ctypes.c_int
    lib.hp_param__list_of_text.argtypes = [ctypes.c_char_p, ctypes.c_size_t, ctypes.POINTER(_Param), ctypes.c_int]
    lib.hp_param__ret_of_text.restype = ctypes.c_int
    lib.hp_param__ret_of_text.argtypes = [ctypes.c_char_p, ctypes.c_size_t, ctypes.POINTER(_Param),
                                          ctypes.POINTER(ctypes.c_int)]
    # the structures here must be the library's: a build with another layout would
    # hand out garbage, so it is refused (as the workbench's JNA binding does)
    lib.Record = _record_type(lib.hp_record__size())
    if lib.Record is None or lib.hp_journal_meta__size() != ctypes.sizeof(_Meta):
        raise LibraryNotFound("%s: its struct hp_record/hp_journal_meta (%d/%d bytes) do not have the layout this "
                              "client reads (docs/journal.md): a libhprobe of another version"
                              % (path, lib.hp_record__size(), lib.hp_journal_meta__size()))
    lib.path = path
    _lib = lib
    return lib


def hit_fields():
    """libhprobe's hit field table (`hprobe fields`): a list of {"name", "title",
    "doc", "stream", "export", "optional"}, in output order."""
    lib = library()
    f = lib.hp_hit__fields()
    out, i = [], 0
    while True:
        row = f[i]
        if not row.name:
            break
        out.append({"name": row.name.decode(), "title": row.title.decode() if row.title else "",
                    "doc": row.doc.decode() if row.doc else "", "stream": bool(row.in_ & HP_HF_IN_STREAM),
                    "export": bool(row.in_ & HP_HF_IN_EXPORT), "optional": bool(row.optional)})
        i += 1
        if i > 256:  # the table has HP_HF_COUNT rows; a missing terminator must not run away
            break
    return out


class Journal:
    """A journal file (journal.hpj), read offline:

        with hprobe.Journal(path) as j:
            print(j.meta["vm_name"])
            for hit in j.hits():
                ...

    A journal still being written can be read as it grows: iterate again to get
    what was flushed since."""

    def __init__(self, path):
        self.path = path
        self._lib = library()
        self._r = ctypes.c_void_p()
        err = _Err()
        rc = self._lib.hp_journal__open(os.fsencode(path), ctypes.byref(self._r), ctypes.byref(err))
        if rc < 0:
            raise JournalError(err.msg.decode(errors="replace") or os.strerror(-rc), -rc)
        m = self._lib.hp_journal__meta(self._r).contents
        self.meta = {"session": m.session.decode(errors="replace"), "vm_name": m.vm_name.decode(errors="replace"),
                     "kernel": m.kernel.decode(errors="replace"), "created_ns": m.created_ns,
                     "mono_base_ns": m.mono_base_ns}
        self._specs = {}
        self._params = {}  # probe id -> (array of _Param, count), from PROBE records as the exports read them
        self._rets = {}  # probe id -> (its return type or None, whether < 0 is -errno)
        self._ip_names = {}  # ip -> its name (IP_NAME events), escaped as the exports keep it
        self._rec = self._lib.Record()
        self._text = ctypes.create_string_buffer(HP_HIT_TEXT_MAX + 6 * (4096 + _IP_NAME_MAX))

    def close(self):
        if self._r:
            self._lib.hp_journal__close_reader(self._r)
            self._r = ctypes.c_void_p()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __del__(self):
        try:
            self.close()
        except Exception:
            pass

    def seek(self, seq):
        """Goes to the first record with a seq >= seq."""
        err = _Err()
        rc = self._lib.hp_journal__seek(self._r, seq, ctypes.byref(err))
        if rc < 0:
            raise JournalError(err.msg.decode(errors="replace"), -rc)

    @property
    def truncated(self):
        """(whether the reader stopped at a damaged or half-written tail, the valid bytes)."""
        valid = ctypes.c_uint64()
        t = self._lib.hp_journal__truncated(self._r, ctypes.byref(valid))
        return bool(t), valid.value

    def _hit(self, rec):
        u = ctypes.addressof(rec.u)
        time_ns = ctypes.c_uint64.from_address(u + _HIT_TIME_NS).value
        probe = ctypes.c_uint32.from_address(u + _HIT_PROBE_ID).value
        spec = self._specs.get(probe) or ("#%d" % probe)
        rel = (time_ns - self.meta["mono_base_ns"]) & 0xffffffffffffffff
        params, n = self._params.get(probe, (None, -1))
        ret, ret_errno = self._rets.get(probe, (None, 0))
        ip = ctypes.c_uint64.from_address(u + _HIT_IP).value
        ctx = _HitCtx(rec.seq, rel - (1 << 64) if rel >= 1 << 63 else rel, spec.encode(), params, n, ret, ret_errno,
                      self._ip_names.get(ip))
        n = self._lib.hp_hit__json(u, ctypes.byref(ctx), HP_HF_IN_EXPORT, self._text, len(self._text))
        return json.loads(self._text.raw[:min(n, len(self._text) - 1)])

    def _note_ip_name(self, data):
        """An IP_NAME event's name, for the hits after it (malformed ones ignored)."""
        ip, name = (data.get("ip"), data.get("name")) if isinstance(data, dict) else (None, None)
        if not (isinstance(ip, str) and re.fullmatch(r"0x[0-9a-fA-F]{1,16}", ip) and isinstance(name, str) and name):
            return
        addr = int(ip, 16)
        if len(self._ip_names) >= _IP_NAMES_MAX and addr not in self._ip_names:
            return
        raw = name.encode()
        esc = ctypes.create_string_buffer(_IP_NAME_MAX)
        self._lib.hp_export__escape(raw, len(raw), esc, _IP_NAME_MAX)
        self._ip_names[addr] = esc.value

    def records(self):
        """Every record from here on, each a dict with "seq", "type" ("hit", "probe",
        "event", "alert", "dropped", "count" or "unknown"): a hit as the JSON Lines export
        writes it; the JSON records' objects with "seq", "type" and "time_ns" added;
        a drop {"probe", "count", "time_ns"}; a count {"probe", "vcpu", "count",
        "first_ns", "last_ns"}."""
        err = _Err()
        rec = self._rec
        while True:
            rc = self._lib.hp_journal__next(self._r, ctypes.addressof(rec), ctypes.byref(err))
            if rc < 0:
                raise JournalError(err.msg.decode(errors="replace"), -rc)
            if rc == 0:
                return
            kind = RECORD_TYPES.get(rec.type, "unknown")
            if kind == "hit":
                out = self._hit(rec)
            elif kind in ("probe", "event", "alert"):
                text = ctypes.string_at(rec.json, rec.json_len).decode(errors="replace") if rec.json else "null"
                try:
                    out = json.loads(text)
                except ValueError:
                    out = {"text": text}
                if not isinstance(out, dict):
                    out = {"value": out}
                if kind == "probe" and isinstance(out.get("id"), int) and isinstance(out.get("spec"), str):
                    self._specs[out["id"]] = out["spec"]  # the latest spec of an id wins, as in the exports
                    params = (_Param * 6)()
                    n = self._lib.hp_param__list_of_text(rec.json, rec.json_len, params, 6)
                    self._params[out["id"]] = (params, n) if n >= 0 else (None, -1)
                    ret, errno_ = _Param(), ctypes.c_int()
                    ok = self._lib.hp_param__ret_of_text(rec.json, rec.json_len, ctypes.byref(ret), ctypes.byref(errno_))
                    self._rets[out["id"]] = (ctypes.pointer(ret), errno_.value) if ok == 0 else (None, 0)
                if kind == "event" and out.get("event") == "IP_NAME":
                    self._note_ip_name(out.get("data"))
                out.setdefault("time_ns", rec.time_ns)
            elif kind == "dropped":
                d = rec.u.dropped
                out = {"probe": d.probe_id, "count": d.count, "time_ns": d.time_ns}
            elif kind == "count":
                c = rec.u.count
                out = {"probe": c.probe_id, "vcpu": c.vcpu, "count": c.count, "first_ns": c.first_ns,
                       "last_ns": c.last_ns}
            else:
                out = {}
            out["seq"] = rec.seq
            out["type"] = kind
            yield out

    def hits(self, probe=None):
        """The hits from here on (of one probe), each as the JSON Lines export writes it:
        seq, time_ns, rel_ns, probe, spec, vcpu, pid, tgid, comm, ip, cr3, user,
        blocked, args, and memaddr/mem/regs when captured."""
        for r in self.records():
            if r["type"] == "hit" and (probe is None or r["probe"] == probe):
                del r["type"]
                yield r

    def alerts(self):
        """The detectors' alerts from here on."""
        for r in self.records():
            if r["type"] == "alert":
                yield r
