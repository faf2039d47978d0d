"""A real libvirtd for the tests, and transient TCG domains booted from a lab guest.

libvirtd is used as the machine has it: a running one (systemd starts it on a
desktop) answers on qemu:///system. On a machine without one (CI containers have no
systemd) the tests start libvirtd and virtlogd themselves, as root, and stop them at
the end. The facts this relies on are in ../shared/reference/libvirt.md and
docs/user-guide.md ("A VM from virt-manager / virsh")."""
import os
import shutil
import subprocess
import tempfile

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
