"""Errors of the hprobe client.

An error reply of the agent raises AgentError, or rather the subclass named after its
error class (docs/protocol.md), so that a script can catch exactly what it expects:

    try:
        agent.probe_add("lab", "kernel:no_such_function")
    except hprobe.UnknownSymbol as e:
        print(e.error_class, e.desc, e.data.get("suggestions"))

AgentUnreachable (and AgentGone, when the agent closes the connection) are the
client's own: no agent answers, as the CLI's exit status 3.
"""


class HProbeError(Exception):
    """Every error this package raises."""


class AgentUnreachable(HProbeError):
    """No agent answers at the socket: none runs and none could be started, the
    socket is not an agent's, or the agent belongs to another user."""


class AgentGone(AgentUnreachable):
    """The agent closed the connection (it stopped, or it was killed). reason is what
    its AGENT_SHUTDOWN event said ("agent-shutdown", "signal", "error") when it ended
    on purpose and this client subscribed to events or hits; None when it went away
    without a word (a crash, kill -9) or nothing was subscribed."""

    def __init__(self, message, reason=None):
        super().__init__(message)
        self.reason = reason


class AgentError(HProbeError):
    """The agent refused a command. error_class is the protocol's class
    ("UnknownSymbol", ...), desc its message, data its optional details (a dict),
    command the command that was refused."""

    error_class = "Error"

    def __init__(self, desc, data=None, command=None, error_class=None):
        super().__init__(desc)
        if error_class is not None:
            self.error_class = error_class
        self.desc = desc
        self.data = data or {}
        self.command = command

    def __str__(self):
        where = "%s: " % self.command if self.command else ""
        return "%s%s: %s" % (where, self.error_class, self.desc)


# The protocol's error classes (docs/protocol.md), one subclass each.
ERROR_CLASSES = ("MalformedFrame", "FrameTooLarge", "UnknownCommand", "InvalidArgument", "UnknownVm",
                 "UnknownProbe", "UnknownSymbol", "UnknownDetector", "BadAddress", "UnsafeAddress", "VmDead",
                 "VmBusy", "NotSupported", "IoError", "GuestError", "Timeout", "Internal")

_BY_CLASS = {}
for _name in ERROR_CLASSES:
    _BY_CLASS[_name] = type(_name, (AgentError,), {
        "error_class": _name, "__doc__": "The agent's error class %s (docs/protocol.md)." % _name,
        "__module__": __name__})
    globals()[_name] = _BY_CLASS[_name]
del _name


def agent_error(err, command=None):
    """The exception for an error reply's "error" object: its class's subclass, or
    AgentError itself for a class this client does not know."""
    cls = err.get("class") if isinstance(err, dict) else None
    desc = err.get("desc") if isinstance(err, dict) else None
    data = err.get("data") if isinstance(err, dict) else None
    exc = _BY_CLASS.get(cls, AgentError)
    return exc(desc or "(no message)", data if isinstance(data, dict) else None, command,
               None if cls in _BY_CLASS else (cls or "Error"))


class JournalError(HProbeError):
    """A journal could not be opened or read (libhprobe's message; errno its code)."""

    def __init__(self, message, errno=None):
        super().__init__(message)
        self.errno = errno


class LibraryNotFound(HProbeError):
    """libhprobe.so could not be found or loaded (see hprobe.journal.find_library)."""
