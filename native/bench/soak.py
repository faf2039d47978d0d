#!/usr/bin/env python3
"""Soak: hits at a sustained high rate for a long time, with a follower attached.
Samples the RSS and open file descriptors of the agent and of the follower every
second, and at the end checks hits streamed = hits in the journal = the guest
program's own counter. A third of the way in, the follower is stopped for --stall
seconds (SIGSTOP): it falls behind, catches up from the journal, and goes live again,
so the lagging path is measured too.

  native/bench/soak.py [--seconds 600] [--work K] [--stall S] [--json OUT]

The CI runs 60 s (native/tests/integration/test_soak.py)."""
import argparse
import os
import re
import signal
import statistics
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "integration"))
from docsect import machine, machine_text, publish, results  # noqa: E402
from hplab import BIN, Agent, Guest, wait_until  # noqa: E402


def rss_kib(pid):
    """Anonymous resident memory (heap, stacks): what a leak grows. Not VmRSS, which
    also counts the in-QEMU tier's shared hit ring (32 MiB per vCPU) as the agent
    first reads each of its pages: a ramp that ends when the ring wraps, sooner or
    later with the host's speed."""
    with open("/proc/%d/status" % pid) as f:
        return next(int(line.split()[1]) for line in f if line.startswith("RssAnon:"))


def fds(pid):
    return len(os.listdir("/proc/%d/fd" % pid))


def cpu_s(pid):
    with open("/proc/%d/stat" % pid) as f:
        v = f.read().rsplit(")", 1)[1].split()
    return (int(v[11]) + int(v[12])) / os.sysconf("SC_CLK_TCK")


def journal_hits(path, probe):
    """Counts the probe's hits in the journal with libhprobe's reader (the CLI's export)."""
    tmp = path + ".count.csv"  # an export renames its output into place: never aim it at /dev/null
    out = subprocess.run([os.path.join(BIN, "hprobe"), "export", path, "--format", "csv", "--out", tmp,
                          "--probe", str(probe)], capture_output=True, text=True, check=True).stdout
    os.unlink(tmp)
    return int(out.split()[0])


def stall_follower(pid, at, secs):
    time.sleep(at)
    os.kill(pid, signal.SIGSTOP)
    time.sleep(secs)
    os.kill(pid, signal.SIGCONT)


def soak(seconds, work, stall=5, after=None):
    """after(agent, vm): called with the journal full, before the agent stops; its
    value is the result's "after"."""
    agent = Agent()
    g = Guest(agent, "soak")
    try:
        pid = g.start_waiting("sysloop -w -g -t %d -k %d" % (seconds, work), "sysloop")
        pr = int(agent.cli("probe", "add", "soak", "kernel:__x64_sys_getpid", "--pid", str(pid), "--args", "2").stdout)
        mech = next(p for p in agent.cli_json("probe", "list", "soak") if p["id"] == pr)["mechanism"]
        # the follower's lines are counted as they come, not stored: a long soak streams GBs
        follower = subprocess.Popen([os.path.join(BIN, "hprobe"), "--socket", agent.socket, "--json", "hits", "soak",
                                     "--follow", "--probe", str(pr)], stdout=subprocess.PIPE)
        streamed = [0]

        def count():
            for _ in follower.stdout:
                streamed[0] += 1
        counter = threading.Thread(target=count, daemon=True)
        counter.start()
        time.sleep(1)
        since = g.type("kill -USR1 %d" % pid)
        if stall:
            threading.Thread(target=stall_follower, args=(follower.pid, seconds / 3, stall), daemon=True).start()
        samples = []
        t0, cpu0 = time.time(), cpu_s(agent.proc.pid)
        while True:
            m = re.compile(r"sysloop\[%d\]: getpid_calls=(\d+)" % pid).search(g.console(), since)
            samples.append({"t": round(time.time() - t0, 1), "agent_rss_kib": rss_kib(agent.proc.pid),
                            "agent_fds": fds(agent.proc.pid), "follower_rss_kib": rss_kib(follower.pid),
                            "follower_fds": fds(follower.pid)})
            if m:
                calls = int(m.group(1))
                break
            if time.time() - t0 > seconds + 120:
                raise AssertionError("the workload did not finish")
            time.sleep(1)
        agent_cpu = cpu_s(agent.proc.pid) - cpu0
        c = agent.client()
        wait_until(lambda: next(p for p in c.ok("probe-list", vm="soak") if p["id"] == pr)["hits"]
                   + c.ok("journal-info", vm="soak")["dropped"] >= calls, 60, "the last hits")
        dropped = c.ok("journal-info", vm="soak")["dropped"]
        time.sleep(1)  # the last batch reaches the disk
        journal = journal_hits(c.ok("journal-info", vm="soak")["path"], pr)
        wait_until(lambda: streamed[0] >= journal, 600, "the follower to catch up")
        time.sleep(1)
        follower.terminate()
        follower.wait()
        counter.join(5)
        streamed = streamed[0]
        c.close()
        extra = after(agent, "soak") if after else None
        steady = [s for s in samples if s["t"] >= min(30, seconds / 4)] or samples
        first = steady[: max(1, len(steady) // 10)]
        last = steady[-max(1, len(steady) // 10):]
        growth = lambda k: statistics.median(x[k] for x in last) / statistics.median(x[k] for x in first)
        fd_growth = lambda k: (statistics.median(x[k] for x in first), statistics.median(x[k] for x in last))
        accel = next(v for v in agent.cli_json("vm", "list") if v["name"] == "soak")["accel"]
        return {"machine": machine(accel),
                "seconds": seconds, "stall": stall, "mechanism": mech, "guest_calls": calls, "journal_hits": journal,
                "streamed_hits": streamed, "dropped": dropped, "hit_rate": calls / seconds,
                "agent_cpu_s": agent_cpu, "agent_rss_growth": growth("agent_rss_kib"),
                "follower_rss_growth": growth("follower_rss_kib"),
                "agent_rss_kib": [min(x["agent_rss_kib"] for x in steady), max(x["agent_rss_kib"] for x in steady)],
                "follower_rss_kib": [min(x["follower_rss_kib"] for x in steady), max(x["follower_rss_kib"] for x in steady)],
                "agent_fds": sorted({x["agent_fds"] for x in steady}),
                "follower_fds": sorted({x["follower_fds"] for x in steady}),
                "agent_fds_first_last": fd_growth("agent_fds"), "follower_fds_first_last": fd_growth("follower_fds"),
                "samples": samples, "after": extra}
    finally:
        g.quit()
        agent.cleanup()


def markdown(r):
    return "\n".join([
        "Measured by `native/bench/soak.py --seconds %d --stall %d` on %s; raw results in "
        "`docs/data/soak.json`." % (r["seconds"], r["stall"], machine_text(r["machine"])), "",
        "| figure | value |", "|---|---|",
        "| duration | %d s, probe mechanism `%s`, follower stopped %d s at a third |" % (
            r["seconds"], r["mechanism"], r["stall"]),
        "| hit rate | %.0f hits/s |" % r["hit_rate"],
        "| guest counter / journal / streamed to the follower | %d / %d / %d (dropped %d) |" % (
            r["guest_calls"], r["journal_hits"], r["streamed_hits"], r["dropped"]),
        "| agent anonymous RSS (RssAnon) over the run (min–max), last/first tenth | %d–%d KiB, %.3f |" % (
            r["agent_rss_kib"][0], r["agent_rss_kib"][1], r["agent_rss_growth"]),
        "| follower anonymous RSS (min–max), last/first tenth | %d–%d KiB, %.3f |" % (
            r["follower_rss_kib"][0], r["follower_rss_kib"][1], r["follower_rss_growth"]),
        "| open fds, agent / follower | %s / %s |" % (r["agent_fds"], r["follower_fds"]),
        "| agent CPU | %.1f s over %d s |" % (r["agent_cpu_s"], r["seconds"]), ""])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=int, default=600)
    ap.add_argument("--work", type=int, default=2000)
    ap.add_argument("--stall", type=int, default=5, help="seconds the follower is stopped (0: never)")
    ap.add_argument("--json")
    ap.add_argument("--from-json", metavar="FILE", help="no run: the table from these raw results")
    ap.add_argument("--markdown", action="store_true", help="write the table into docs/reliability.md")
    a = ap.parse_args()
    r = results(a, lambda: soak(a.seconds, a.work, a.stall))
    publish(r, a.json, "reliability.md", [("soak", markdown(r))], a.markdown)


if __name__ == "__main__":
    main()
