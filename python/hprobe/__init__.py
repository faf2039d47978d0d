"""hprobe: the Python client of HProbe's agent, hprobed (docs/protocol.md), and a reader
of its hit journals (docs/journal.md). Standard library only; pandas is optional.

    import hprobe
    with hprobe.connect() as agent:
        vm = agent.vm_launch(name="lab")["name"]
        probe = agent.probe_add(vm, "kernel:__x64_sys_getpid", comm="sysloop")["id"]
        for hit in agent.hits(vm, from_seq=0, probe=probe, idle_timeout=5):
            print(hit["seq"], hit["comm"], hit["pid"])

See python/README.md and the user guide's "Python" section.
"""
from .client import PROTOCOL, Client, HitStream, connect, default_socket, find_agent, start_agent
from .errors import (ERROR_CLASSES, AgentError, AgentGone, AgentUnreachable, BadAddress, FrameTooLarge, GuestError,
                     HProbeError, Internal, InvalidArgument, IoError, JournalError, LibraryNotFound, MalformedFrame,
                     NotSupported, Timeout, UnknownCommand, UnknownDetector, UnknownProbe, UnknownSymbol, UnknownVm,
                     UnsafeAddress, VmBusy, VmDead, agent_error)
from .frame import dataframe
from .journal import Journal, find_library, hit_fields

__version__ = "0.1.0"

__all__ = ["PROTOCOL", "Client", "HitStream", "connect", "default_socket", "find_agent", "start_agent", "Journal",
           "find_library", "hit_fields", "dataframe", "HProbeError", "AgentError", "AgentGone", "AgentUnreachable",
           "JournalError", "LibraryNotFound", "agent_error", "ERROR_CLASSES"] + list(ERROR_CLASSES)
