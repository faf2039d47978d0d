"""A client of hprobed's protocol (docs/protocol.md): newline-delimited JSON over the
agent's Unix socket.

Every command of the protocol is a method named after it, "-" as "_" (probe-add is
probe_add), with the command's arguments as keyword arguments; it returns the
reply's "return" value and raises the AgentError subclass of the error class
otherwise. hits() follows a VM's hits as an iterator; call() sends any command.

A Client is one connection and is not thread-safe: use one per thread.
"""
import collections
import errno as _errno
import json
import os
import select
import shutil
import socket as _socket
import struct
import subprocess
import time

from .errors import AgentError, AgentGone, AgentUnreachable, agent_error

PROTOCOL = 1
MAX_LINE = 64 << 20  # the agent's frames can be long (a large hits-read): tens of MiB


def default_socket():
    """The agent's default socket, by the rule the CLI, the workbench and the agent
    share: $XDG_RUNTIME_DIR/hprobe/hprobed.sock when XDG_RUNTIME_DIR is an absolute
    path; else /run/hprobe/hprobed.sock when /run/hprobe is writable (root); else
    /tmp/hprobe-UID/hprobed.sock."""
    xdg = os.environ.get("XDG_RUNTIME_DIR")
    if xdg and xdg.startswith("/"):
        return os.path.join(xdg, "hprobe", "hprobed.sock")
    run = "/run/hprobe"
    if (os.path.exists(run) and os.access(run, os.W_OK)) or (not os.path.exists(run) and os.access("/run", os.W_OK)):
        return run + "/hprobed.sock"
    return "/tmp/hprobe-%d/hprobed.sock" % os.getuid()


def find_agent():
    """The hprobed to start: $HPROBE_AGENT, else hprobed next to the hprobe CLI found
    on PATH, else hprobed on PATH (the CLI's rule)."""
    env = os.environ.get("HPROBE_AGENT")
    if env:
        return env
    cli = shutil.which("hprobe")
    if cli:
        beside = os.path.join(os.path.dirname(os.path.realpath(cli)), "hprobed")
        if os.access(beside, os.X_OK):
            return beside
    return shutil.which("hprobed") or "hprobed"


def start_agent(path, agent=None):
    """Starts hprobed as a daemon on socket path; returns once it listens."""
    agent = agent or find_agent()
    try:
        r = subprocess.run([agent, "--daemon", "--socket", path], stdin=subprocess.DEVNULL,
                           stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, timeout=60)
    except (OSError, subprocess.TimeoutExpired) as e:
        raise AgentUnreachable("could not start the agent (%s --daemon): %s" % (agent, e)) from None
    if r.returncode != 0:
        raise AgentUnreachable("could not start the agent (%s --daemon): exit status %d: %s"
                               % (agent, r.returncode, r.stderr.decode(errors="replace").strip()))


def connect(socket=None, start=True, agent=None):
    """A Client connected to the agent at socket (default: default_socket()). With
    start (the default, as the CLI does) an agent is started when none listens there."""
    return Client(socket, start=start, agent=agent)


def _peer_ok(sock, path):
    """The agent must run as this user, or as root: anyone may listen first on a
    socket path and answer in its place (the CLI's check)."""
    cred = sock.getsockopt(_socket.SOL_SOCKET, _socket.SO_PEERCRED, struct.calcsize("3i"))
    pid, uid, _gid = struct.unpack("3i", cred)
    if uid not in (os.geteuid(), 0):
        raise AgentUnreachable("%s: the process listening there (pid %d) runs as uid %d, not as you (uid %d) or "
                               "root: not talking to it" % (path, pid, uid, os.geteuid()))


class Client:
    """One connection to hprobed. Use it as a context manager, or close() it."""

    def __init__(self, socket=None, start=True, agent=None):
        self.path = socket or default_socket()
        self._start, self._agent = start, agent
        self._sock = None
        self._events = collections.deque()
        self._next_id = 0
        self.generation = 0  # counts (re)connections: a hit stream re-subscribes after one
        self._open()

    # ---- the connection ----

    def _open(self):
        self._buf = bytearray()
        self.shutdown_reason = None  # what AGENT_SHUTDOWN said, once it came
        sock = self._try_connect()
        if sock is None and self._start:
            start_agent(self.path, self._agent)  # another client may start one meanwhile: then theirs serves
            sock = self._try_connect()
        if sock is None:
            raise AgentUnreachable("cannot connect to hprobed at %s: %s" % (self.path, self._why))
        try:
            _peer_ok(sock, self.path)
        except AgentUnreachable:
            sock.close()
            raise
        self._sock = sock
        try:
            g = self._read(timeout=5)
        except AgentGone:
            g = None
        hp = g.get("hprobe") if isinstance(g, dict) else None
        if not isinstance(hp, dict) or hp.get("protocol") != PROTOCOL:
            self.close()
            desc = g.get("error", {}).get("desc") if isinstance(g, dict) else None
            raise AgentUnreachable("%s: %s" % (self.path, desc or "no hprobed greeting (protocol %d)" % PROTOCOL))
        self.greeting = hp
        self.generation += 1

    def _try_connect(self):
        s = _socket.socket(_socket.AF_UNIX, _socket.SOCK_STREAM | _socket.SOCK_CLOEXEC)
        try:
            s.connect(self.path)
            return s
        except OSError as e:
            s.close()
            self._why = os.strerror(e.errno) if e.errno else str(e)
            if e.errno in (_errno.ENOENT, _errno.ECONNREFUSED):
                return None
            raise AgentUnreachable("cannot connect to hprobed at %s: %s" % (self.path, self._why)) from None

    def reconnect(self, start=False):
        """Opens the connection again (after the agent restarted, say). Subscriptions
        do not survive: hit streams of this client subscribe again by themselves."""
        self.close()
        self._events.clear()
        saved, self._start = self._start, start
        try:
            self._open()
        finally:
            self._start = saved

    def close(self):
        if self._sock is not None:
            self._sock.close()
            self._sock = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def _gone(self):
        if self.shutdown_reason:
            return AgentGone("the agent at %s shut down (%s)" % (self.path, self.shutdown_reason),
                             self.shutdown_reason)
        return AgentGone("the agent at %s closed the connection" % self.path)

    @property
    def closed(self):
        return self._sock is None

    def _read(self, timeout=None):
        """The next message (a dict), or None after timeout seconds (None: wait)."""
        if self._sock is None:
            raise AgentGone("the connection to %s is closed" % self.path)
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            nl = self._buf.find(b"\n")
            if nl >= 0:
                line = bytes(self._buf[:nl])
                del self._buf[:nl + 1]
                if not line.strip():
                    continue
                msg = json.loads(line)
                if isinstance(msg, dict) and msg.get("event") == "AGENT_SHUTDOWN":
                    self.shutdown_reason = (msg.get("data") or {}).get("reason") or "no reason given"
                return msg
            if len(self._buf) > MAX_LINE:
                self.close()
                raise AgentGone("a message from the agent longer than %d bytes" % MAX_LINE)
            if deadline is not None:
                left = deadline - time.monotonic()
                if left <= 0:
                    return None
                if not select.select([self._sock], [], [], left)[0]:
                    return None
            try:
                chunk = self._sock.recv(1 << 20)
            except ConnectionError:
                chunk = b""
            if not chunk:
                self.close()
                raise self._gone()
            self._buf += chunk

    # ---- commands ----

    def call(self, _command, _timeout=None, **arguments):
        """Runs a protocol command ("probe-add", ...) with its arguments (None values
        are left out) and returns its "return" value; raises the AgentError subclass of
        an error reply, AgentGone if the agent goes away, TimeoutError after _timeout
        seconds."""
        if self._sock is None:
            raise AgentGone("the connection to %s is closed" % self.path)
        self._next_id += 1
        rid = self._next_id
        msg = {"execute": _command, "id": rid}
        args = {k: v for k, v in arguments.items() if v is not None}
        if args:
            msg["arguments"] = args
        try:
            self._sock.sendall(json.dumps(msg, separators=(",", ":")).encode() + b"\n")
        except OSError:
            self.close()
            raise self._gone() from None
        deadline = None if _timeout is None else time.monotonic() + _timeout
        while True:
            m = self._read(None if deadline is None else max(0.0, deadline - time.monotonic()))
            if m is None:
                raise TimeoutError("%s: no reply within %s s" % (_command, _timeout))
            if "event" in m:
                self._events.append(m)
            elif m.get("id") == rid:
                if "error" in m:
                    raise agent_error(m["error"], _command)
                return m.get("return")

    def next_event(self, timeout=None, match=None):
        """The next event (a dict: event, vm, data, timestamp) that match(event)
        accepts (any, without match), or None after timeout seconds. Events received
        meanwhile that do not match are kept for later calls."""
        for i, ev in enumerate(self._events):
            if match is None or match(ev):
                del self._events[i]
                return ev
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            m = self._read(None if deadline is None else max(0.0, deadline - time.monotonic()))
            if m is None:
                return None
            if "event" not in m:
                continue  # a reply nobody waits for
            if match is None or match(m):
                return m
            self._events.append(m)

    def events(self, timeout=None):
        """Events as they come (after events_subscribe() or hits_subscribe()), until
        none came for timeout seconds (None: forever)."""
        while True:
            ev = self.next_event(timeout)
            if ev is None:
                return
            yield ev

    # ---- the agent ----

    def agent_info(self):
        return self.call("agent-info")

    def agent_shutdown(self):
        """Detaches from every VM (guests run on) and stops the agent."""
        return self.call("agent-shutdown")

    # ---- VMs ----

    def vm_launch(self, name=None, **options):
        """Boots a guest and attaches: the lab's guest, or with kernel= and/or disk=
        your own (options as in docs/protocol.md: smp, mem, kaslr, plugin, http_port,
        lab_kernel, sysroot, kernel, initrd, append, disk, disk_format, disk_mode, net,
        nic, forward, qemu_args, boot_timeout, symbols, vmlinux). Returns the VM."""
        return self.call("vm-launch", name=name, **options)

    def vm_attach(self, qmp=None, libvirt=None, name=None, **options):
        """Attaches a running QEMU by its QMP socket, or a libvirt domain (connect=URI);
        options: symbols, vmlinux, console_log, console_sock, sysroot, plugin."""
        return self.call("vm-attach", qmp=qmp, libvirt=libvirt, name=name, **options)

    def libvirt_list(self, connect=None):
        return self.call("libvirt-list", connect=connect)

    def vm_list(self):
        return self.call("vm-list")

    def vm(self, name):
        """One VM of vm_list() by its name (UnknownVm if there is none)."""
        for v in self.vm_list():
            if v.get("name") == name:
                return v
        raise agent_error({"class": "UnknownVm", "desc": "no VM '%s'" % name}, "vm-list")

    def vm_set(self, vm, sysroot=None):
        return self.call("vm-set", vm=vm, sysroot=sysroot)

    def vm_detach(self, vm):
        return self.call("vm-detach", vm=vm)

    def vm_quit(self, vm):
        return self.call("vm-quit", vm=vm)

    def vm_pause(self, vm):
        return self.call("vm-pause", vm=vm)

    def vm_resume(self, vm):
        return self.call("vm-resume", vm=vm)

    def vm_console(self, vm, input=None, offset=None, max=None):
        """The guest's console from byte offset ({"text", "offset"}); input is typed first."""
        return self.call("vm-console", vm=vm, input=input, offset=offset, max=max)

    def vm_ps(self, vm):
        return self.call("vm-ps", vm=vm)

    def vm_stats(self, vm):
        return self.call("vm-stats", vm=vm)

    def sym_search(self, vm, pattern, limit=None, offset=None, binary=None):
        return self.call("sym-search", vm=vm, pattern=pattern, limit=limit, offset=offset, binary=binary)

    def sym_disas(self, vm, spec):
        return self.call("sym-disas", vm=vm, spec=spec)

    def sym_lookup(self, vm, addrs):
        """Names kernel addresses ("0x..." strings): {"symbols": ["func+0xoff" or None, ...]}."""
        return self.call("sym-lookup", vm=vm, addrs=list(addrs))

    # ---- probes ----

    def probe_add(self, vm, spec, args=None, mem=None, regs=None, pid=None, comm=None, kind=None, enabled=None,
                  cond=None, agg=None, agg_rows=None):
        """Plants a probe; returns the reply: {"id", "addr", "mechanism", ...}. cond is
        the protocol's "if" (a Python keyword): only hits where it holds. agg
        ("count() by comm") sums its hits into a table (agg_read) instead of the journal."""
        return self.call("probe-add", vm=vm, spec=spec, args=args, mem=mem, regs=regs, pid=pid, comm=comm,
                         kind=kind, enabled=enabled, agg=agg, agg_rows=agg_rows, **{"if": cond})

    def agg_read(self, vm, probe, limit=None, clear=None):
        """A probe's aggregation: {"fn", "by", "rows": [{"key", "count", ...}], "hits", ...},
        rows largest first; clear=True empties it after the read."""
        return self.call("agg-read", vm=vm, probe=probe, limit=limit, clear=clear)

    def probe_list(self, vm, removed=False):
        """The VM's probes; with removed, then the last ones removed (state "removed")."""
        return self.call("probe-list", vm=vm, removed=True) if removed else self.call("probe-list", vm=vm)

    def probe(self, vm, probe):
        """One probe of probe_list() by its id (UnknownProbe if there is none)."""
        for p in self.probe_list(vm):
            if p.get("id") == probe:
                return p
        raise agent_error({"class": "UnknownProbe", "desc": "VM %s has no probe %s" % (vm, probe)}, "probe-list")

    def probe_enable(self, vm, probe):
        return self.call("probe-enable", vm=vm, probe=probe)

    def probe_disable(self, vm, probe):
        return self.call("probe-disable", vm=vm, probe=probe)

    def probe_remove(self, vm, probe):
        return self.call("probe-remove", vm=vm, probe=probe)

    # ---- hits ----

    def journal_info(self, vm):
        return self.call("journal-info", vm=vm)

    def hits_read(self, vm, from_seq=None, limit=None, probe=None):
        """One page of the journal's hits: {"hits", "next_seq", "end"}."""
        return self.call("hits-read", vm=vm, from_seq=from_seq, limit=limit, probe=probe)

    def read_hits(self, vm, from_seq=0, probe=None, page=10000):
        """Every hit in the VM's journal from from_seq (of one probe), page by page."""
        seq = from_seq
        while True:
            r = self.hits_read(vm, from_seq=seq, limit=page, probe=probe)
            for h in r["hits"]:
                yield h
            seq = r["next_seq"]
            if r["end"] or not r["hits"]:
                return

    def hits_subscribe(self, vm, from_seq=None):
        return self.call("hits-subscribe", vm=vm, from_seq=from_seq)

    def hits_unsubscribe(self, vm):
        return self.call("hits-unsubscribe", vm=vm)

    def hits(self, vm, from_seq=None, probe=None, idle_timeout=None, resume=True, batches=False):
        """A VM's hits as they come: a HitStream (an iterator of hit dicts, or of HITS
        batches with batches=True), from journal record from_seq (None: only new
        ones), of one probe or all. Iteration ends after idle_timeout seconds without
        a hit (None: never). If the connection breaks and resume is true, it
        reconnects and goes on from the last seq it gave: no hit lost, none twice."""
        return HitStream(self, vm, from_seq, probe, idle_timeout, resume, batches)

    # ---- detectors, alerts, events ----

    def detector_add(self, vm, kind, config=None):
        """Adds a detector (docs/detectors.md); returns {"id"}."""
        return self.call("detector-add", vm=vm, kind=kind, config=config if config is not None else {})

    def detector_list(self, vm):
        return self.call("detector-list", vm=vm)

    def detector_enable(self, vm, detector):
        return self.call("detector-enable", vm=vm, detector=detector)

    def detector_disable(self, vm, detector):
        return self.call("detector-disable", vm=vm, detector=detector)

    def detector_remove(self, vm, detector):
        return self.call("detector-remove", vm=vm, detector=detector)

    def alerts_read(self, vm, from_seq=None):
        """The journal's alerts: {"alerts", "next_seq"}."""
        return self.call("alerts-read", vm=vm, from_seq=from_seq)

    def events_subscribe(self):
        """VM_STATE, PROBE, DETECTOR, DETECTOR_STATE, ALERT (and CONSOLE) events from
        now on: read them with events() or next_event()."""
        return self.call("events-subscribe")


class HitStream:
    """A VM's hits pushed by the agent (hits-subscribe), in journal order. next_seq is
    the seq the stream would go on from (resume a later stream there with from_seq).
    Iterating yields hit dicts (the protocol's hit objects, 64-bit values exact), or
    with batches=True the HITS events' data ({"first_seq", "next_seq", "hits"}, hits
    of other probes left out)."""

    def __init__(self, client, vm, from_seq, probe, idle_timeout, resume, batches):
        self.client, self.vm, self.probe = client, vm, probe
        self.idle_timeout, self.resume, self.batches = idle_timeout, resume, batches
        self.next_seq = from_seq
        self.lagging = 0  # HITS_LAGGING events seen: the agent caught this stream up from its journal
        self.reconnects = 0
        self._pending = collections.deque()
        self._generation = None
        self._closed = False
        self._subscribe()

    def _subscribe(self):
        r = self.client.hits_subscribe(self.vm, from_seq=self.next_seq)
        if self.next_seq is None:
            self.next_seq = r.get("next_seq")
        self._generation = self.client.generation

    def _match(self, ev):
        return ev.get("vm") == self.vm and ev.get("event") in ("HITS", "HITS_LAGGING")

    def _resume(self):
        """Reconnects (the agent restarted, or the connection dropped) and subscribes
        again from next_seq; retries for up to 60 s."""
        deadline = time.monotonic() + 60
        while True:
            try:
                self.client.reconnect()
                self._subscribe()
                self.reconnects += 1
                return
            except AgentUnreachable:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.5)

    def __iter__(self):
        return self

    def __next__(self):
        if self._closed:
            raise StopIteration
        last = time.monotonic()
        while not self._pending:
            if self._generation != self.client.generation:
                self._subscribe()
            wait = None
            if self.idle_timeout is not None:
                wait = self.idle_timeout - (time.monotonic() - last)
                if wait <= 0:
                    raise StopIteration
            try:
                ev = self.client.next_event(wait, self._match)
            except AgentGone:
                if not self.resume:
                    raise
                self._resume()
                continue
            if ev is None:
                continue
            data = ev.get("data") or {}
            if ev["event"] == "HITS_LAGGING":
                self.lagging += 1
                continue
            start = self.next_seq or 0
            hits = [h for h in data.get("hits", []) if h.get("seq", 0) >= start and
                    (self.probe is None or h.get("probe") == self.probe)]
            if data.get("next_seq") is not None:
                self.next_seq = max(start, data["next_seq"])
            if self.batches and hits:
                b = dict(data)
                b["hits"] = hits
                self._pending.append(b)
                last = time.monotonic()
            elif hits:
                self._pending.extend(hits)
                last = time.monotonic()
        return self._pending.popleft()

    def close(self):
        """Stops the subscription (hits-unsubscribe)."""
        if self._closed:
            return
        self._closed = True
        if not self.client.closed and self._generation == self.client.generation:
            try:
                self.client.hits_unsubscribe(self.vm)
            except (AgentError, AgentGone):
                pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
