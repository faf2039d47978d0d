"""Exports a synthetic journal (nasty comms, every hit shape) to CSV, JSON Lines and
Chrome trace JSON, and checks each with Python's own csv/json readers: exactly the
expected rows, field by field; then the probe/pid/time filters. With LIBHPROBE_SO,
the Python client's journal reader (python/hprobe) must read the hits as the JSON
Lines export writes them.
Usage: check_exports.py HP_MKJOURNAL WORKDIR [LIBHPROBE_SO]"""
import csv
import json
import os
import re
import shutil
import subprocess
import sys

from export_expect import (CSV_HEADER, HIT_MEM, HIT_RET, HIT_TASK, REGS, csv_text, jsonl_object, load, named_args,
                           named_ret)

N = 500
tool, work = sys.argv[1], sys.argv[2]
lib = sys.argv[3] if len(sys.argv) > 3 else None
shutil.rmtree(work, ignore_errors=True)
os.makedirs(work)
journal, expected = os.path.join(work, "j.hpj"), os.path.join(work, "expected.jsonl")
subprocess.run([tool, "make", journal, expected, str(N)], check=True)
hits = load(expected)
assert len(hits) == N
failures = []


def check(cond, what):
    if not cond:
        failures.append(what)


def export(fmt, out, *filt):
    r = subprocess.run([tool, "export", journal, fmt, out, *filt], check=True, capture_output=True, text=True)
    return int(r.stdout.split()[1])


# CSV
out = os.path.join(work, "hits.csv")
check(export("csv", out) == N, "csv count")
with open(out, newline="", encoding="utf-8") as f:
    raw = f.read()
check(raw.count("\r\n") >= N + 1, "csv CRLF line ends")
with open(out, newline="", encoding="utf-8") as f:
    rows = list(csv.reader(f))
header, rows = rows[0], rows[1:]
check(header == CSV_HEADER, "csv header %r" % header)
check(len(rows) == N, "csv rows %d" % len(rows))
for h, r in zip(hits, rows):
    task, mem = bool(h["flags"] & HIT_TASK), bool(h["flags"] & HIT_MEM)
    o = jsonl_object(h)
    want = [str(h["seq"]), str(h["time_ns"]), str(h["rel_ns"]), str(h["probe"]), csv_text(h["spec"]),
            str(h["vcpu"]), str(h["pid"]) if task else "", str(h["tgid"]) if task else "",
            csv_text(h["comm"]) if task else "", hex(h["ip"]),
            csv_text(h["ip_name"]) if h["ip_name"] is not None else "", hex(h["cr3"]), str(o["user"]).lower(),
            str(o["blocked"]).lower()]
    ret = bool(h["flags"] & HIT_RET)
    want += [str(h["retval"]) if ret else "", str(h["latency_ns"]) if ret else "",
             csv_text(named_ret(h)) if ret else ""]
    want += [str(h["args"][i]) if i < len(h["args"]) else "" for i in range(6)]
    want += [csv_text(named_args(h)) if h["args"] else ""]
    want += [hex(h["memaddr"]) if mem else "", h["mem"] if mem else ""]
    want += [";".join("%s=%s" % (n, hex(v)) for n, v in zip(REGS, h["regs"])) if h["regs"] else ""]
    check(r == want, "csv row %d: %r != %r" % (h["seq"], r, want))
check(any(r[23].startswith("dfd=") for r in rows) and any(r[23].startswith("arg1=") for r in rows),
      "csv: arguments by name where the probe's are known, by position elsewhere")
check(any(r[8].startswith("'=") for r in rows) and any(r[8].startswith("'-") for r in rows),
      "csv: formula-like comms neutralised")
named = [h["ip_name"] for h in hits if h["ip_name"] is not None]
check(len(named) == sum(1 for i in range(N) if i % 6 in (1, 3)) and "'=ev" in {r[10][:4] for r in rows}
      and any(len(n) == 255 for n in named), "csv: IPs named (escaped, cut) where the journal names them")

# JSON Lines
out = os.path.join(work, "hits.jsonl")
check(export("jsonl", out) == N, "jsonl count")
with open(out, encoding="utf-8") as f:
    objs = [json.loads(line) for line in f]
check(len(objs) == N, "jsonl lines")
for h, o in zip(hits, objs):
    want = jsonl_object(h)
    check(o == want, "jsonl %d: %r != %r" % (h["seq"], o, want))

# The Python client's reader: the same objects, IP names included (a process of its own:
# an instrumented library needs the ASan runtime loaded first)
if lib:
    env = dict(os.environ, HPROBE_LIB=lib,
               PYTHONPATH=os.path.join(os.path.dirname(__file__), "..", "..", "..", "python"))
    asan = re.search(r"libasan\.so\S* => (\S+)", subprocess.run(["ldd", lib], capture_output=True,
                                                                text=True).stdout)
    if asan:  # Python is not instrumented: its leaks are not ours
        env.update(LD_PRELOAD=asan.group(1), ASAN_OPTIONS="detect_leaks=0")
    r = subprocess.run([sys.executable, "-c", "import hprobe, json, sys\n"
                        "with hprobe.Journal(sys.argv[1]) as j:\n"
                        "    print(json.dumps(list(j.hits())))", journal], env=env, capture_output=True, text=True)
    check(r.returncode == 0, "python reader: %s" % r.stderr[-2000:])
    read = json.loads(r.stdout) if r.returncode == 0 else []
    check(read == objs, "python reader: %d hits, first difference %r" % (
        len(read), next(((a, b) for a, b in zip(read, objs) if a != b), None)))
check(any(o["pid"] is None for o in objs), "jsonl: an unknown task is null")

# Chrome Trace Event JSON
out = os.path.join(work, "trace.json")
check(export("chrome", out) == N, "chrome count")
with open(out, encoding="utf-8") as f:
    doc = json.load(f)
check(doc["displayTimeUnit"] == "ns" and doc["otherData"]["vm"] == "lab", "chrome header")
check(doc["otherData"]["session"] == 's-"1"', "chrome session")
evs = doc["traceEvents"]
hev = [e for e in evs if e.get("cat") == "hit"]
check(len(hev) == N, "chrome hits %d" % len(hev))
for h, e in zip(hits, hev):
    task = bool(h["flags"] & HIT_TASK)
    check(e["name"] == h["spec"], "chrome event %d" % h["seq"])
    check((e["pid"], e["tid"]) == ((h["tgid"], h["pid"]) if task else (0, 0)), "chrome pid/tid %d" % h["seq"])
    if task and h["flags"] & HIT_RET:  # the call as a slice ending at its return
        check(e["ph"] == "X" and "s" not in e, "chrome slice %d" % h["seq"])
        check(abs(e["dur"] - h["latency_ns"] / 1000.0) < 1e-6, "chrome dur %d" % h["seq"])
        check(abs(e["ts"] + e["dur"] - h["rel_ns"] / 1000.0) < 1e-6, "chrome slice end %d" % h["seq"])
    else:
        check(e["ph"] == "i" and e["s"] == "t", "chrome instant %d" % h["seq"])
        check(abs(e["ts"] - h["rel_ns"] / 1000.0) < 1e-6, "chrome ts %d" % h["seq"])
    check(e["args"] == jsonl_object(h, hex_args=True), "chrome args %d: %r" % (h["seq"], e["args"]))
check(any(e["ph"] == "X" for e in hev) and any(e["ph"] == "i" and h["flags"] & HIT_RET for h, e in zip(hits, hev)),
      "chrome: slices, and returns of unknown tasks as instants")
names = {}
for h in hits:
    if h["flags"] & HIT_TASK:
        names.setdefault(h["tgid"], h["comm"])
pn = {e["pid"]: e["args"]["name"] for e in evs if e.get("name") == "process_name"}
check(pn == names, "chrome process names %r != %r" % (pn, names))
check(len([e for e in evs if e.get("name") == "process_name"]) == len(names), "one process_name per tgid")
alerts = [e for e in evs if e.get("cat") == "alert"]
check(len(alerts) == 2 and alerts[0]["name"] == "alert: watchdog" and alerts[0]["s"] == "g", "chrome alerts")
check(alerts[0]["args"]["msg"] == 'no heartbeat "x"\n' and alerts[1]["args"] == {"text": "[1, 2]"},
      "chrome alert args")
check(len([e for e in evs if e.get("cat") == "dropped"]) == 1, "chrome dropped")
# aggregations' snapshots as counters: a series per well-formed row; no rows, no counter
aggs = [e for e in evs if e.get("cat") == "agg"]
check([(e["name"], e["ph"], e["args"]) for e in aggs] ==
      [("agg #1 count() by comm, fd", "C", {'a"b, 3': 5, "x": 2, "\u00e9" * 127: 1}),
       ("agg #2 sum(arg1) by pid", "C", {"101": 40})],
      "chrome agg counters %r" % aggs)
check(all(abs(e["ts"] - alerts[0]["ts"]) < 1e-6 for e in aggs), "chrome agg times")

# Filters: probes 1 and 3, pid-or-tgid 101, relative time [100 us, 400 us)
out = os.path.join(work, "filtered.jsonl")
n = export("jsonl", out, "--probe", "1", "--probe", "3", "--pid", "101", "--from", "100000", "--to", "400000")
want = [h["seq"] for h in hits if h["probe"] in (1, 3) and 101 in (h["pid"], h["tgid"])
        and 100000 <= h["rel_ns"] < 400000]
with open(out) as f:
    got = [json.loads(line)["seq"] for line in f]
check(n == len(want) and got == want and len(want) > 5, "filter: %r != %r" % (got, want))

out = os.path.join(work, "probe2.json")
export("chrome", out, "--probe", "2")
with open(out) as f:
    only = [e["name"] for e in json.load(f)["traceEvents"] if e.get("cat") == "agg"]
check(only == ["agg #2 sum(arg1) by pid"], "filter: the probe's aggregation only, %r" % only)

for f in failures[:20]:
    print("FAIL:", f)
print("%d checks failed" % len(failures) if failures else "all export checks passed")
sys.exit(1 if failures else 0)
