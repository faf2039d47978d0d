#!/usr/bin/env python3
"""Long fuzz runs, one libFuzzer process per harness, and the table of
docs/reliability.md (section "fuzz") written from their raw results in
docs/data/fuzz.json. A run replaces its harness's entry; the others stay.

    cmake -S native -B /tmp/nbf -DCMAKE_C_COMPILER=clang -DHP_FUZZ=ON -DHP_INTEGRATION=OFF
    cmake --build /tmp/nbf -j2
    native/bench/fuzz_campaign.py --build /tmp/nbf --runs 10000000 fuzz_rsp --markdown
    native/bench/fuzz_campaign.py --markdown      # the table again from the data alone

A run stopped early with SIGUSR1 (libFuzzer's graceful exit) is recorded with the runs
it made.
"""
import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from docsect import DOCS, machine, update  # noqa: E402

TOP = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
DATA = os.path.join(DOCS, "data", "fuzz.json")
KEEP = os.path.join(tempfile.gettempdir(), "hprobe-fuzz-artifacts")

# harness: (where it lives, what it parses, extra libFuzzer options)
HARNESSES = {
    "fuzz_journal": ("lib", "journal reader (`hp_journal_reader`)", []),
    "fuzz_symtab_elf": ("lib", "vmlinux / app ELF symbols (libelf)", []),
    "fuzz_dwarf": ("lib", "application functions' parameters and return types from any file's DWARF (libdw) "
                   "and our type walk", []),
    "fuzz_kallsyms": ("lib", "kallsyms recovery from a guest image", []),
    "fuzz_symtab_text": ("lib", "System.map / `/proc/kallsyms` text", []),
    "fuzz_btf": ("lib", "BTF (libbpf) and our offset resolver", []),
    "fuzz_protocol": ("agent", "protocol frames through the parser and the command table (no VM: VM commands "
                      "stop at their validation)", ["-dict=native/agent/fuzz/fuzz_protocol.dict", "-max_len=1024"]),
    "fuzz_rsp": ("agent", "gdbstub client against a hostile stub: handshake, target description "
                 "(xi:include), registers, memory, monitor, detach", ["-max_len=8192"]),
    "fuzz_vm": ("agent", "the commands that need a VM (probes, detectors, symbols, hits-read, alerts-read) and "
                "session.json restore, on a VM over the fake backend, its jobs run as its worker runs them "
                "(no leak check after each input, -detect_leaks=0: the VM keeps state between inputs)",
                ["-dict=native/agent/fuzz/fuzz_protocol.dict", "-max_len=2048", "-detect_leaks=0"]),
    "fuzz_cond": ("agent", "probe conditions and aggregations: the `--if` and `--agg` compilers on any text "
                  "(an aggregation then summing hits from the input), and a condition program as the "
                  "plugin receives it (`hp_pcond_check`, then `hp_pcond_eval` on hits from the input)",
                  ["-dict=native/agent/fuzz/fuzz_cond.dict", "-max_len=600"]),
    "fuzz_profile": ("agent", "a guest kernel's types: BTF whose struct sizes, member offsets and types and per-CPU "
                     "current task the input chooses, through the profile's derivation, then used as a hit and "
                     "the VM's views use them (current task, task list, program path and build id, kprobe "
                     "blacklist) on guest memory the input fills", ["-max_len=4096"]),
    "fuzz_ring": ("agent", "the in-QEMU tier's ring as QEMU may leave it (head, tail, records): the consumer and "
                  "the record parser, and records through the producer and back", ["-max_len=1100"]),
    "fuzz_pctl": ("plugin", "the plugin's control handler: the agent's messages (add with a capture plan and a "
                  "condition program, enable, disable, remove, clear, sync, flush, stats) in any order and shape, "
                  "the plugin's probe and slot bookkeeping checked after each", ["-max_len=4096"]),
    "fuzz_export": ("lib", "the exporters (CSV, JSON Lines, Chrome/Perfetto, CTF) on random journals, their output "
                    "read back as its readers would", []),
    "fuzz_cli": ("cli", "what the CLI reads: an agent's stream (greeting, replies, events; HITS batches printed "
                 "tab-separated, as the table and as JSON) and probe set files", ["-max_len=8192"]),
}


def run(build, name, runs, max_time):
    where, _, opts = HARNESSES[name]
    at = machine()  # the commit as the run starts: the code the build was made from
    exe = os.path.join(build, where, "fuzz", name)
    seeds = os.path.join(TOP, "native", where, "fuzz", "corpus", name)
    with tempfile.TemporaryDirectory() as tmp:
        corpus = os.path.join(tmp, "corpus")
        shutil.copytree(seeds, corpus)  # libFuzzer adds files to it
        cmd = [exe] + opts + ["-runs=%d" % runs, "-print_final_stats=1", "-artifact_prefix=%s/" % tmp]
        if max_time:
            cmd.append("-max_total_time=%d" % max_time)
        t0 = time.monotonic()
        p = subprocess.run(cmd + [corpus], cwd=TOP, capture_output=True, text=True, errors="replace")
        secs = time.monotonic() - t0
        crashes = sorted(f for f in os.listdir(tmp) if f.startswith(("crash-", "leak-", "timeout-", "oom-")))
        for c in crashes:  # kept past the temporary directory, to reproduce: ./fuzz_X FILE
            os.makedirs(KEEP, exist_ok=True)
            shutil.copy(os.path.join(tmp, c), os.path.join(KEEP, "%s-%s" % (name, c)))
        out = p.stderr
    m = re.findall(r"stat::number_of_executed_units: (\d+)", out)
    if not m:
        sys.exit("%s printed no final stats (exit %d):\n%s" % (name, p.returncode, out[-3000:]))
    if p.returncode and not crashes:
        crashes = ["exit status %d" % p.returncode]
    for c in crashes:
        print("%s: %s (kept in %s)" % (name, c, KEEP), file=sys.stderr)
    if crashes:
        print(out[-3000:], file=sys.stderr)
    return {"runs": int(m[-1]), "seconds": round(secs), "crashes": len(crashes), "date": at["date"],
            "commit": at["commit"], "clang": clang(), "machine": "%s, %d cores" % (at["host"], at["cores"])}


def clang():
    v = subprocess.run(["clang", "--version"], capture_output=True, text=True).stdout.split("\n")[0]
    m = re.search(r"version (\S+)", v)
    return m.group(1) if m else v


def markdown(data):
    rows = ["| harness | parser under test | runs (one process) | time | crashes | measured | found and fixed on "
            "the way |", "|---|---|---|---|---|---|---|"]
    for name in HARNESSES:
        e = data.get(name)
        if not e:
            rows.append("| `%s` | %s | not run yet | | | | |" % (name, HARNESSES[name][1]))
            continue
        when = "%s, commit %s, clang %s" % (e["date"], e["commit"], e["clang"]) if e.get("commit") else \
            "%s, hand-recorded (not re-run by this script)" % e["date"]
        rows.append("| `%s` | %s | %.1fM | %d s | %d | %s | %s |" % (
            name, HARNESSES[name][1], e["runs"] / 1e6, e["seconds"], e["crashes"], when, e.get("found", "—")))
    return "\n".join(rows) + "\n"


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("harness", nargs="*", help="harnesses to run (none: only the table)")
    ap.add_argument("--build", help="the HP_FUZZ=ON build directory")
    ap.add_argument("--runs", type=int, default=10_000_000)
    ap.add_argument("--max-time", type=int, default=0, help="seconds at most per harness (0: none)")
    ap.add_argument("--markdown", action="store_true", help="write the table into docs/reliability.md")
    a = ap.parse_args()
    unknown = [h for h in a.harness if h not in HARNESSES]
    if unknown:
        ap.error("unknown harness %s (known: %s)" % (", ".join(unknown), ", ".join(HARNESSES)))
    if a.harness and not a.build:
        ap.error("--build is needed to run harnesses")
    with open(DATA) as f:
        data = json.load(f)
    for h in a.harness:
        r = run(a.build, h, a.runs, a.max_time)
        r["found"] = data.get(h, {}).get("found", "—")
        print("%s: %d runs in %d s, %d crashes" % (h, r["runs"], r["seconds"], r["crashes"]))
        with open(DATA) as f:  # again: another campaign may have written its harness meanwhile
            data = json.load(f)
        data[h] = r
        with open(DATA, "w") as f:
            json.dump(data, f, indent=1, sort_keys=True)
            f.write("\n")
    text = markdown(data)
    print(text)
    if a.markdown:
        update("reliability.md", "fuzz-table", text)


if __name__ == "__main__":
    main()
