"""A real libvirtd for the tests, and transient TCG domains booted from a lab guest.

libvirtd is used as the machine has it: a running one (systemd starts it on a
desktop) answers on qemu:///system. On a machine without one (CI containers have no
systemd) the tests start libvirtd and virtlogd themselves, as root, and stop them at
the end. The facts this relies on are in ../shared/reference/libvirt.md and
docs/user-guide.md ("A VM from virt-manager / virsh").

Run as a program, it gives other test suites (the workbench's UI test) a domain that
outlives it:

    python3 libvirtlab.py up NAME [--smp N] [--mem MIB] [--state FILE]
    python3 libvirtlab.py down NAME [--state FILE]

`up` boots the transient domain NAME (libvirtd and virtlogd started first when none
answers, as root), prints one JSON object (uri, name, uuid, id, console_log,
console_sock, dir, qemu_pid, daemons: the pids of the daemons it started) and leaves them
running, the same facts in a state file ($TMPDIR/hprobe-libvirtlab-NAME.json). It
exits 77 when this machine cannot have a domain (no libvirtd, not root), saying why.
`down` destroys the domain, removes its files and stops the daemons `up` started."""
import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

import hplab

URI = "qemu:///system"


def virsh(*args, check=True, timeout=60):
    r = subprocess.run(["virsh", "-c", URI] + list(args), capture_output=True, text=True, timeout=timeout)
    if check and r.returncode != 0:
        raise AssertionError("virsh %s failed: %s" % (" ".join(args), r.stderr.strip()))
    return r.stdout


def _answers():
    try:
        return subprocess.run(["virsh", "-c", URI, "version"], capture_output=True,
                              timeout=20).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


class Daemon:
    """libvirtd (and virtlogd), running already or started here."""

    def __init__(self):
        self.procs = []
        self.log_dir = None
        if _answers():
            return
        if os.geteuid() != 0 or not shutil.which("libvirtd") or not shutil.which("virtlogd"):
            raise hplab.unittest.SkipTest("no libvirtd answers on %s and this user cannot start one "
                                          "(releng/scripts/setup-system.sh installs it)" % URI)
        self.log_dir = tempfile.mkdtemp(prefix="hprobe-libvirtd-")
        self.start()

    def start(self):
        """Starts the daemons in the foreground of child processes (no systemd)."""
        for d in ("/var/log/libvirt", "/run/libvirt", "/var/lib/libvirt/qemu"):
            os.makedirs(d, exist_ok=True)
        for name in ("virtlogd", "libvirtd"):
            log = open(os.path.join(self.log_dir, name + ".log"), "ab")
            self.procs.append(subprocess.Popen([name], stdout=log, stderr=log, start_new_session=True))
        hplab.wait_until(_answers, 60, "libvirtd to answer on " + URI, 0.5)

    @property
    def ours(self):
        return bool(self.procs)

    def restart_libvirtd(self):
        """libvirtd alone goes away and comes back; its domains run on meanwhile."""
        assert self.ours, "only a libvirtd started by the tests is restarted"
        lv = self.procs.pop()
        lv.terminate()
        lv.wait(30)
        log = open(os.path.join(self.log_dir, "libvirtd.log"), "ab")
        self.procs.append(subprocess.Popen(["libvirtd"], stdout=log, stderr=log, start_new_session=True))
        hplab.wait_until(_answers, 60, "libvirtd to answer again", 0.5)

    def stop(self):
        for p in reversed(self.procs):
            p.terminate()
            try:
                p.wait(30)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
        self.procs = []
        if self.log_dir:
            shutil.rmtree(self.log_dir, ignore_errors=True)


class Domain:
    """A transient domain (gone when it stops) booted from the lab guest's kernel and
    initramfs, TCG, its serial console on a Unix socket with a log file."""

    def __init__(self, name, gdir=None, smp=2, mem=512, plugin=None):
        """plugin: our TCG plugin's .so, given to QEMU in the domain's <qemu:commandline>
        (a copy beside the kernel: QEMU runs as libvirt's user)."""
        self.name = name
        gdir = gdir or hplab.guest_dir()
        # QEMU runs as libvirt's QEMU user: it reads copies in a directory it may
        # enter and creates the console socket in one it may write
        self.dir = tempfile.mkdtemp(prefix="hprobe-dom-")
        os.chmod(self.dir, 0o755)
        self.con = os.path.join(self.dir, "con")
        os.mkdir(self.con)
        os.chmod(self.con, 0o1777)
        for f in ("vmlinuz", "initramfs.cpio.gz"):
            shutil.copy(os.path.join(gdir, f), self.dir)
        self.console_log = os.path.join(self.con, "console.log")
        self.console_sock = os.path.join(self.con, "console.sock")
        self.ctl = os.path.join(self.con, "hprobe.sock")
        extra = ""
        if plugin:
            shutil.copy(plugin, os.path.join(self.dir, "hprobe-tcg.so"))
            extra = self.PLUGIN % dict(dir=self.dir, ctl=self.ctl)
        self.xml = os.path.join(self.dir, "domain.xml")
        with open(self.xml, "w") as f:
            f.write(self.XML % dict(name=name, dir=self.dir, con=self.con, smp=smp, mem=mem, extra=extra))
        virsh("create", self.xml)
        hplab.wait_until(self._ready, 240, "domain %s to boot" % name, 0.5)

    # <features><acpi/></features>: without it libvirt 9.0 passes -no-acpi, which QEMU 10
    # refuses
    # the lines docs/user-guide.md shows
    PLUGIN = """  <qemu:commandline>
    <qemu:arg value='-plugin'/>
    <qemu:arg value='%(dir)s/hprobe-tcg.so,ctl=%(ctl)s'/>
  </qemu:commandline>
"""
    XML = """<domain type='qemu' xmlns:qemu='http://libvirt.org/schemas/domain/qemu/1.0'>
  <name>%(name)s</name>
  <memory unit='MiB'>%(mem)d</memory>
  <vcpu>%(smp)d</vcpu>
  <os><type arch='x86_64' machine='pc'>hvm</type>
    <kernel>%(dir)s/vmlinuz</kernel><initrd>%(dir)s/initramfs.cpio.gz</initrd>
    <cmdline>console=ttyS0 quiet panic=-1</cmdline></os>
  <features><acpi/></features>
  <devices>
    <serial type='unix'><source mode='bind' path='%(con)s/console.sock'/>
      <log file='%(con)s/console.log' append='off'/><target port='0'/></serial>
    <memballoon model='none'/>
  </devices>
%(extra)s</domain>
"""

    def _ready(self):
        try:
            with open(self.console_log, "rb") as f:
                return b"HPROBE-READY" in f.read()
        except OSError:
            return False

    def state(self):
        return virsh("domstate", self.name, check=False).strip()

    def dominfo(self):
        """virsh dominfo as a dict, without what changes by itself (CPU time)."""
        out = {}
        for line in virsh("dominfo", self.name).splitlines():
            k, _, v = line.partition(":")
            if k.strip() and k.strip() != "CPU time":
                out[k.strip()] = v.strip()
        return out

    def dumpxml(self):
        return virsh("dumpxml", self.name)

    def private_dir(self):
        """The domain's private directory (qemu:///system's domain-ID-NAME), where its
        monitor socket and any gdbstub of ours live. Found without a monitor command
        (one would mark the domain tainted)."""
        base = "/var/lib/libvirt/qemu"
        dom_id = virsh("domid", self.name).strip()
        dirs = [d for d in os.listdir(base) if d.startswith("domain-%s-" % dom_id)]
        assert len(dirs) == 1, dirs
        return os.path.join(base, dirs[0])

    def private_files(self):
        return sorted(os.listdir(self.private_dir()))

    def destroy(self):
        virsh("destroy", self.name, check=False)
        shutil.rmtree(self.dir, ignore_errors=True)


class AttachedGuest(hplab.Guest):
    """The console of an attached domain, through the agent (vm-console)."""

    def __init__(self, agent, name):
        self.agent, self.name, self.client, self.text = agent, name, agent.client(), ""


# ---- the command line: a domain for other test suites ----

def _state_file(name):
    return os.path.join(tempfile.gettempdir(), "hprobe-libvirtlab-%s.json" % name)


def up(name, smp=1, mem=512, state=None):
    """Boots the domain NAME and leaves it (and any daemon started for it) running;
    returns what a test needs to know, also written to the state file."""
    state = state or _state_file(name)
    if os.path.exists(state):
        down(name, state)  # what a killed run left
    daemon = Daemon()
    try:
        virsh("destroy", name, check=False)  # a transient domain of that name, left by a killed run
        dom = Domain(name, smp=smp, mem=mem)
        info = dict(uri=URI, name=name, uuid=virsh("domuuid", name).strip(), id=int(virsh("domid", name)),
                    console_log=dom.console_log, console_sock=dom.console_sock, dir=dom.dir,
                    qemu_pid=_qemu_pid(name), daemons=[p.pid for p in daemon.procs], log_dir=daemon.log_dir,
                    state=state)
    except BaseException:
        daemon.stop()
        raise
    with open(state + ".tmp", "w") as f:
        json.dump(info, f)
    os.replace(state + ".tmp", state)
    return info


def _qemu_pid(name):
    """The domain's QEMU, from the pid file qemu:///system keeps (0 if none)."""
    try:
        with open("/run/libvirt/qemu/%s.pid" % name) as f:
            return int(f.read().strip() or 0)
    except (OSError, ValueError):
        return 0


def _running(pid, comm):
    """Whether pid is still a live process named comm (not a zombie, not a reused pid)."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            stat = f.read()
    except OSError:
        return False
    return stat[stat.index("(") + 1:stat.rindex(")")] == comm and stat[stat.rindex(")") + 2] != "Z"


def down(name, state=None):
    """Destroys the domain NAME and stops the daemons its up started (never a libvirtd
    that was running before)."""
    state = state or _state_file(name)
    try:
        with open(state) as f:
            info = json.load(f)
    except (OSError, ValueError):
        info = {}
    if _answers():
        virsh("destroy", name, check=False)
    # a libvirtd gone meanwhile (another suite stopped the one it shared) cannot destroy it
    pid = info.get("qemu_pid", 0)
    if pid and _running(pid, "qemu-system-x86"):
        os.kill(pid, signal.SIGKILL)
    if info.get("dir"):
        shutil.rmtree(info["dir"], ignore_errors=True)
    # the daemons are not our children: signalled by pid, checked by name
    for pid, comm in reversed(list(zip(info.get("daemons", []), ("virtlogd", "libvirtd")))):
        if _running(pid, comm):
            os.kill(pid, signal.SIGTERM)
            end = time.time() + 30
            while _running(pid, comm) and time.time() < end:
                time.sleep(0.1)
            if _running(pid, comm):
                os.kill(pid, signal.SIGKILL)
    if info.get("log_dir"):
        shutil.rmtree(info["log_dir"], ignore_errors=True)
    if os.path.exists(state):
        os.unlink(state)


def main(argv):
    ap = argparse.ArgumentParser(description="A transient libvirt domain booted from the lab guest, "
                                 "for tests outside this suite.")
    sub = ap.add_subparsers(dest="command", required=True)
    u = sub.add_parser("up", help="boot domain NAME; print JSON; leave it running")
    u.add_argument("name")
    u.add_argument("--smp", type=int, default=1)
    u.add_argument("--mem", type=int, default=512, help="MiB")
    u.add_argument("--state", help="state file (default $TMPDIR/hprobe-libvirtlab-NAME.json)")
    d = sub.add_parser("down", help="destroy domain NAME; stop the daemons its up started")
    d.add_argument("name")
    d.add_argument("--state")
    a = ap.parse_args(argv)
    if a.command == "down":
        down(a.name, a.state)
        return 0
    try:
        print(json.dumps(up(a.name, a.smp, a.mem, a.state)), flush=True)
    except hplab.unittest.SkipTest as e:
        print("libvirtlab: no domain on this machine: %s" % e, file=sys.stderr)
        return 77
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
