/* The CLI's one description of itself (usage.h): commands, options, exit statuses. */
#include <stdint.h>
#include <string.h>

#include "usage.h"

/* clang-format off */
#define VM { "N", "N", "the VM's name (hprobe vm list)", CLI_K_VM, 0, 0, 0, NULL }
#define ID(what) { "ID", "ID", "the " what "'s id", CLI_K_NUM, 0, 0, UINT32_MAX, NULL }
#define FLAG(n, d) { n, NULL, d, CLI_K_TEXT, 0, 0, 0, NULL }
#define OPT(n, m, k, d) { n, m, d, k, 0, 0, 0, NULL }
#define NUM(n, m, lo, hi, d) { n, m, d, CLI_K_NUM, 0, lo, hi, NULL }
#define WORDS(n, m, w, d) { n, m, d, CLI_K_WORD, 0, 0, 0, w }
/* clang-format on */

const char cli_exit_doc[] = "0\tsuccess\n"
			    "1\tthe agent refused the command (its error class and message are printed), "
			    "or a local step failed (a file, an export)\n"
			    "2\tusage error: unknown or misplaced option, bad number, missing argument\n"
			    "3\tcannot reach the agent: none runs and none could be started, the socket is "
			    "not an agent's, or the agent went away or shut down\n"
			    "4\tguest error: the agent's error class GuestError or VmDead\n";

const char cli_description[] =
	"hprobe is the command-line client of hprobed, the HProbe agent: it launches or attaches "
	"virtual machines, plants probes in their kernel and programs, prints the hits, runs "
	"detectors and exports the journal of hits as traces. Nothing is installed in the guest.\n"
	"\n"
	"The agent is started when it is not running (unless --no-start is given). Options "
	"take their value as --opt=value or --opt value and may come before or after the "
	"command's other arguments; the global options may also come before the command. "
	"An argument after -- is never an option. With --json every command prints JSON (one "
	"value per line) in the schemas of the protocol (docs/protocol.md); otherwise text "
	"for people, and tab-separated lines from hits into a pipe or a file.";

const char *const cli_environment[] = {
	"XDG_RUNTIME_DIR",
	"the default socket is $XDG_RUNTIME_DIR/hprobe/hprobed.sock when it is an absolute path; "
	"otherwise /run/hprobe/hprobed.sock when /run/hprobe is writable (root), else "
	"/tmp/hprobe-UID/hprobed.sock",
	"HPROBE_AGENT",
	"the hprobed binary to start (default: hprobed next to hprobe, else on PATH)",
	"HPROBE_SSH",
	"the ssh command for --socket ssh://..., words split on blanks (default: ssh; for example "
	"\"ssh -F ~/.ssh/lab_config\"); BatchMode=yes is added, so keys or an ssh-agent, never a password prompt",
	"TZ",
	"the time zone of hits --time=wall",
	NULL,
};

const struct cli_argdoc cli_global_opts[] = {
	FLAG("json", "machine output: JSON, one value per line (the protocol's schemas)"),
	OPT("socket", "PATH|URL", CLI_K_FILE,
	    "the agent's socket (default: $XDG_RUNTIME_DIR/hprobe/hprobed.sock; see ENVIRONMENT in man hprobe), "
	    "or ssh://[user@]host[:port][/socket] for an agent on another host, through ssh -L ($HPROBE_SSH: "
	    "the ssh command)"),
	FLAG("no-start", "do not start the agent when none runs (exit status 3 instead)"),
	FLAG("help", "this command's help (also -h)"),
	{ 0 },
};

const struct cli_argdoc cli_top_opts[] = {
	FLAG("version", "the CLI's version, and the agent's and its protocol when one answers (never starts one)"),
	{ 0 },
};

const struct cli_groupdoc cli_groups[] = {
	{ "vm", 1, "launch, attach and drive virtual machines" },
	{ "sym", 1, "search a guest's symbols, disassemble a function, name addresses" },
	{ "probe", 1, "plant, list, enable, disable and remove probes; save and load probe sets" },
	{ "run", 0, "apply a probe set file, print its hits until interrupted, then remove it" },
	{ "hits", 0, "print a VM's hits, from its journal and live" },
	{ "detector", 1, "add, list and control detectors" },
	{ "alerts", 0, "print a VM's detector alerts" },
	{ "agg", 1, "show the tables of probes that aggregate (probe add --agg)" },
	{ "export", 0, "export a journal as a trace (CSV, JSON Lines, Chrome, CTF)" },
	{ "agent", 1, "start, stop or describe the agent" },
	{ "fields", 0, "list the fields of a hit" },
	{ "help", 0, "help on a command" },
};
const unsigned cli_ngroups = sizeof cli_groups / sizeof cli_groups[0];

const struct cli_cmddoc cli_cmds[] = {
	{ "vm",
	  "launch",
	  "boot a guest and attach to it: a lab guest (--lab), or your own kernel and/or disk image; prints the VM",
	  "A lab guest: replies when it is up and probes can be planted (about 10 s under TCG).\n"
	  "\n"
	  "Your own guest: --kernel (with --initrd, --append) and/or --disk. The disk is opened as a "
	  "snapshot unless --disk-mode says otherwise: the guest's writes vanish with QEMU. No network "
	  "unless --net; --forward binds each host port on 127.0.0.1. More QEMU arguments go after --. "
	  "Replies once the guest's kernel runs and its symbols are read (--boot-timeout). Under TCG "
	  "its probes run inside QEMU (the in-QEMU tier), like a lab guest's.",
	  { { "-- QEMU_ARG...", "ARG", "more arguments for QEMU (own guest)", CLI_K_TEXT, CLI_OPTIONAL | CLI_REST, 0, 0,
	      NULL } },
	  {
		  FLAG("lab", "boot a lab guest (native/guest/lab.sh)"),
		  OPT("lab-kernel", "SUITE", CLI_K_TEXT,
		      "the lab guest's kernel, a Debian suite of the lab (lab.sh kernels lists them)"),
		  OPT("kernel", "FILE", CLI_K_FILE, "your own guest's kernel (bzImage/vmlinuz)"),
		  OPT("initrd", "FILE", CLI_K_FILE, "its initramfs (with --kernel)"),
		  OPT("append", "CMDLINE", CLI_K_TEXT,
		      "its kernel command line (with --kernel), e.g. 'console=ttyS0 root=/dev/vda1'"),
		  OPT("disk", "IMAGE", CLI_K_FILE, "your own guest's disk image (qcow2 or raw), a virtio disk"),
		  WORDS("disk-format", "FMT", "qcow2 raw", "the image's format (default: from its first bytes)"),
		  WORDS("disk-mode", "MODE", "snapshot readonly writable",
			"snapshot (default: writes vanish with QEMU), readonly, or writable (the image changes)"),
		  WORDS("net", "NET", "none user restricted",
			"none (default), user (QEMU user-mode network), restricted (user-mode, reaching nothing "
			"outside)"),
		  OPT("nic", "DEVICE", CLI_K_TEXT, "the network device (default virtio-net-pci)"),
		  OPT("forward", "FWDS", CLI_K_TEXT,
		      "host ports to the guest, comma-separated [tcp:|udp:]HOSTPORT:GUESTPORT (bound to 127.0.0.1)"),
		  NUM("boot-timeout", "S", 10, 3600, "seconds for your own guest's kernel to come up (default 300)"),
		  OPT("symbols", "FILE", CLI_K_FILE, "the guest kernel's System.map or kallsyms text"),
		  OPT("vmlinux", "FILE", CLI_K_FILE, "the guest kernel's vmlinux (its BTF)"),
		  OPT("name", "NAME", CLI_K_TEXT, "the VM's name (default lab, lab2, ...)"),
		  NUM("smp", "K", 1, 1024, "vCPUs (default 1)"),
		  NUM("mem", "MB", 16, 1048576, "memory in MiB (default 512)"),
		  FLAG("no-kaslr", "boot the lab guest's kernel without KASLR"),
		  FLAG("no-plugin", "no in-QEMU tier: every probe stops the VM through its gdbstub"),
		  NUM("http-port", "P", 1, 65535, "forward port P of 127.0.0.1 to the lab guest's httpd"),
		  OPT("sysroot", "DIR", CLI_K_DIR,
		      "where the guest's programs are found on this host (default: the guest's folder of the lab)"),
	  } },
	{ "vm",
	  "attach",
	  "attach to a running QEMU through its QMP socket, or to a libvirt domain; prints the VM",
	  "QEMU needs a QMP socket (-qmp unix:PATH,server=on,wait=off), no -gdb. A libvirt domain is "
	  "reached through libvirt, by its name or UUID (libvirt marks it 'tainted: custom-monitor'). "
	  "Without --symbols and --vmlinux the kernel's symbols and BTF are recovered from guest memory. "
	  "A QEMU given our plugin (-plugin .../hprobe-tcg.so,ctl=PATH) gets the in-QEMU tier.",
	  { { 0 } },
	  {
		  OPT("qmp", "PATH", CLI_K_FILE, "the QEMU's QMP socket"),
		  OPT("libvirt", "DOMAIN", CLI_K_TEXT, "a running libvirt domain, by name or UUID (hprobe vm domains)"),
		  OPT("connect", "URI", CLI_K_TEXT, "the libvirt connection (default: libvirt's, e.g. qemu:///system)"),
		  OPT("name", "NAME", CLI_K_TEXT, "the VM's name (default: the domain's)"),
		  OPT("symbols", "FILE", CLI_K_FILE, "the guest kernel's System.map or kallsyms text"),
		  OPT("vmlinux", "FILE", CLI_K_FILE, "the guest kernel's vmlinux (its BTF)"),
		  OPT("console-log", "FILE", CLI_K_FILE, "the guest's serial console log (with --console-sock)"),
		  OPT("console-sock", "PATH", CLI_K_FILE, "the guest's serial console socket (for vm console --input)"),
		  OPT("sysroot", "DIR", CLI_K_DIR,
		      "a host directory that mirrors the guest's files, where its programs are found by their guest "
		      "path"),
		  FLAG("no-plugin", "do not use a plugin on QEMU's command line: probes use the gdbstub"),
	  } },
	{ "vm",
	  "domains",
	  "list a libvirt connection's domains: name, state, and the VM each is attached as",
	  NULL,
	  { { 0 } },
	  {
		  OPT("connect", "URI", CLI_K_TEXT, "the libvirt connection (default: libvirt's, e.g. qemu:///system)"),
	  } },
	{ "vm",
	  "list",
	  "list the agent's VMs: name, state, accelerator, vCPUs, QEMU, kernel, probes, hits",
	  "--json adds each VM's journal and kernel profile.",
	  { { 0 } },
	  { { 0 } } },
	{ "vm",
	  "set",
	  "change what may change while a VM is monitored: its sysroot; prints the VM",
	  "Probes already added keep the program file they were resolved in.",
	  { VM },
	  {
		  { "sysroot", "DIR", "the VM's new sysroot ('' for none)", CLI_K_DIR, CLI_REQ, 0, 0, NULL },
	  } },
	{ "vm", "detach", "lift every probe and disconnect: the guest runs on at full speed", NULL, { VM }, { { 0 } } },
	{ "vm", "quit", "power off a guest the agent launched", NULL, { VM }, { { 0 } } },
	{ "vm", "pause", "pause a VM", NULL, { VM }, { { 0 } } },
	{ "vm", "resume", "resume a paused VM", NULL, { VM }, { { 0 } } },
	{ "vm", "ps", "the guest's tasks, read from its memory", NULL, { VM }, { { 0 } } },
	{ "vm",
	  "stats",
	  "what the VM's probes journalled, dropped, and what the in-QEMU tier filtered out or could not read",
	  NULL,
	  { VM },
	  { { 0 } } },
	{ "vm",
	  "console",
	  "print the guest's serial console",
	  "On a terminal, control characters are shown in caret notation (ESC as ^[), never obeyed.",
	  { VM },
	  {
		  FLAG("follow", "keep printing what comes, until interrupted"),
		  OPT("input", "TEXT", CLI_K_TEXT, "type TEXT into the console first (e.g. $'uname -a\\n')"),
	  } },
	{ "sym",
	  "search",
	  "search the kernel's symbols (or a program's) by substring or glob (* and ?)",
	  NULL,
	  { VM, { "PATTERN", "PATTERN", "a substring, or a glob with * and ?", CLI_K_TEXT, 0, 0, 0, NULL } },
	  {
		  OPT("binary", "FILE", CLI_K_FILE,
		      "search this guest program's ELF symbols (/apps/NAME: a lab program)"),
		  NUM("limit", "K", 1, 100000, "at most K symbols (default 100)"),
	  } },
	{ "sym",
	  "disas",
	  "disassemble a function; back-edges are marked",
	  NULL,
	  { VM, { "SPEC", "SPEC", "kernel:FUNC or app:BINARY:FUNC", CLI_K_TEXT, 0, 0, 0, NULL } },
	  { { 0 } } },
	{ "sym",
	  "lookup",
	  "name kernel addresses: the function that holds each, as func+0xoff",
	  "Prints each address and its name, or - outside the kernel's functions (data, "
	  "the heap, user space).",
	  { VM, { "ADDR", "ADDR[,ADDR...]", "kernel addresses, 0x and hex digits", CLI_K_TEXT, 0, 0, 0, NULL } },
	  { { 0 } } },
	{ "probe",
	  "add",
	  "plant a probe; prints its id",
	  "For __x64_sys_* wrappers the arguments are the system call's, read from the struct "
	  "pt_regs the wrapper receives. An application probe is pending until a process runs "
	  "its program.",
	  { VM,
	    { "SPEC", "SPEC", "kernel:FUNC[+OFF], 0xADDR (kernel) or app:BINARY:FUNC[+OFF]", CLI_K_TEXT, 0, 0, 0,
	      NULL } },
	  {
		  OPT("args", "K|NAME,...", CLI_K_TEXT,
		      "capture the first K (0..6) arguments, or those up to the last parameter named (fd,count: the "
		      "names probe list --json shows in params)"),
		  OPT("mem", "SRC[+OFF]:LEN", CLI_K_TEXT,
		      "capture LEN bytes at SRC+OFF (SRC: argN, a parameter's name or a register; :sLEN or :str for "
		      "a C string), or at a struct member from a parameter, through the kernel's BTF "
		      "('file->f_path.dentry->d_name.name:str')"),
		  FLAG("regs", "capture the registers"),
		  NUM("pid", "P", 0, INT32_MAX, "only hits of task P"),
		  OPT("comm", "C", CLI_K_TEXT, "only hits of tasks named C"),
		  WORDS("kind", "KIND", "capture count", "capture (default: every hit) or count (totals only)"),
		  OPT("if", "EXPR", CLI_K_TEXT,
		      "only hits where EXPR holds: C operators over parameters by name, arg1..arg6, registers, pid, "
		      "tgid and comm (ret and latency on a return probe); comm == \"ba*\" matches a prefix (fd == 1 "
		      "&& count > 4096)"),
		  OPT("agg", "FN(X) by KEY,...", CLI_K_TEXT,
		      "sum the hits into a table instead of the journal (hprobe agg show): count(), sum(X), min(X), "
		      "max(X), avg(X) or hist(X) (powers of two), X over the names --if knows, by up to three keys: "
		      "comm, pid, tgid, vcpu, a parameter, ret, latency, the --mem string (hist(count) by comm)"),
		  NUM("agg-rows", "K", 1, 16384,
		      "keep at most K keys; hits of more go to one 'other' row (default 1024)"),
		  FLAG("disabled", "add it disabled"),
	  } },
	{ "probe",
	  "list",
	  "list a VM's probes: id, state, kind, mechanism, hits, spec",
	  NULL,
	  { VM },
	  { FLAG("removed", "then the last 256 removed since the VM was attached (state removed)") } },
	{ "probe", "enable", "enable a probe", NULL, { VM, ID("probe") }, { { 0 } } },
	{ "probe", "disable", "disable a probe: it leaves nothing in QEMU", NULL, { VM, ID("probe") }, { { 0 } } },
	{ "probe", "remove", "remove a probe", NULL, { VM, ID("probe") }, { { 0 } } },
	{ "probe",
	  "save",
	  "write a VM's probes and detectors as a probe set file (docs/probesets.md)",
	  "The probes a detector planted are not written: the detector plants them again. A probe "
	  "on an address (0xADDR) holds that boot's address: KASLR moves it at the next boot.",
	  { VM, { "FILE", "FILE", "the probe set file to write (- for stdout)", CLI_K_FILE, 0, 0, 0, NULL } },
	  {
		  OPT("description", "TEXT", CLI_K_TEXT,
		      "the set's description (default: the VM, its kernel and the date)"),
	  } },
	{ "probe",
	  "load",
	  "add a probe set file's probes and detectors to a VM and leave them there; prints their ids",
	  "The whole file is checked first: an error names the file's line and the member "
	  "(set.json:14: probes[2].spec: ...), and nothing is applied. If the agent refuses one of "
	  "the set's probes or detectors, everything the set added so far is removed again: the VM "
	  "is left as it was. hprobe run applies a set only while it runs.",
	  { VM,
	    { "FILE", "FILE", "a probe set file (docs/probesets.md; - reads it from stdin)", CLI_K_FILE, 0, 0, 0,
	      NULL } },
	  { { 0 } } },
	{ "probe",
	  "check",
	  "check a probe set file without applying it: no agent is needed",
	  "Prints how many probes and detectors it holds, or every error with its line and member.",
	  { { "FILE", "FILE", "a probe set file (- reads it from stdin)", CLI_K_FILE, 0, 0, 0, NULL } },
	  { { 0 } } },
	{ "hits",
	  NULL,
	  "print a VM's hits: those in its journal, then with --follow the new ones as they come",
	  "On a terminal: a table with a header line: SEQ, TIME, PROBE, VCPU, PID/TGID, COMM, IP "
	  "and ARGS (the arguments, then mem=HEX for a memory capture and BLOCKED for a call "
	  "a virtual patch blocked); a value longer than its column is cut. Arguments read "
	  "NAME=VALUE (fd=1 buf=0x55d0c0a2e2a0 count=7: integers in decimal, pointers in hex) when "
	  "the guest kernel names the probed function's parameters (probe list --json: params), "
	  "else they are hex, comma-separated. A return probe's hit adds ret=VALUE (read as the "
	  "function's return type; a system call's -errno named: ret=-2(ENOENT)) and lat=NSns.\n"
	  "\n"
	  "Into a pipe or a file: one line per hit, no header, tab-separated: seq, time, probe, "
	  "vcpu, pid, tgid, comm, ip, args (as in the table), mem (hex), blocked, retval (typed, as in the "
	  "table, without the errno name) and latency_ns. A task the "
	  "agent could not identify, an empty value or a call not blocked is -.\n"
	  "\n"
	  "Times (--time): rel, the default, is seconds since the journal's start, as in the "
	  "workbench and in exports; mono is the host's CLOCK_MONOTONIC in seconds (the hit's "
	  "time_ns); wall is the date and time (local, ISO 8601). The journal's start is read "
	  "from the journal when this host can read it; otherwise rel counts from the VM's "
	  "first hit and wall uses this host's clocks.\n"
	  "\n"
	  "--json prints the agent's hit objects, one per line, unchanged (64-bit arguments exact). "
	  "A follower that stops resumes where it was with --from (its last seq plus one).",
	  { VM },
	  {
		  NUM("probe", "ID", 0, UINT32_MAX, "only the hits of probe ID"),
		  FLAG("follow", "then print new hits as they come, until interrupted"),
		  NUM("limit", "K", 0, INT64_MAX, "stop after K hits"),
		  NUM("from", "SEQ", 0, INT64_MAX, "start at journal record SEQ (default: the first)"),
		  WORDS("time", "WHEN", "rel mono wall", "rel (default), mono or wall"),
	  } },
	{ "run",
	  NULL,
	  "apply a probe set file to a VM, print its hits as they come, and remove the set at the end",
	  "The set's probes and detectors are added (as probe load does: the whole file is checked "
	  "first, and a set the agent refuses part of is rolled back), then the hits of its probes "
	  "are printed as hprobe hits --follow prints them, with its detectors' alerts, until "
	  "Ctrl-C, SIGTERM or SIGHUP (or --duration). Then everything the set added is removed, "
	  "and a summary (each probe's hits, each detector's alerts) goes to stderr: JSON with --json.\n"
	  "\n"
	  "Exit status 0 when the set ran and was removed. If the agent goes away meanwhile (status "
	  "3), its guardian lifts the probes from the guest, but an agent that restarts restores the "
	  "VM's session with them: the summary says which ids to remove. hprobe killed by SIGKILL "
	  "removes nothing.",
	  { { "FILE", "FILE", "a probe set file (docs/probesets.md; - reads it from stdin)", CLI_K_FILE, 0, 0, 0,
	      NULL } },
	  {
		  { "vm", "N", "the VM to apply the set to (hprobe vm list)", CLI_K_VM, CLI_REQ, 0, 0, NULL },
		  NUM("duration", "S", 1, INT32_MAX, "stop by itself after S seconds"),
		  WORDS("time", "WHEN", "rel mono wall", "how hits' times are printed, as for hprobe hits"),
	  } },
	{ "detector",
	  "add",
	  "add a detector; prints its id",
	  "KIND is emergency, watchdog or loop; its configuration (a JSON object) is described in "
	  "docs/detectors.md. The detector plants its own probes.",
	  { VM, { "KIND", "KIND", "emergency, watchdog or loop", CLI_K_WORD, 0, 0, 0, "emergency watchdog loop" } },
	  {
		  { "config", "FILE", "the configuration, a JSON object (- reads it from stdin)", CLI_K_FILE, CLI_REQ,
		    0, 0, NULL },
	  } },
	{ "detector", "list", "list a VM's detectors with their live state", NULL, { VM }, { { 0 } } },
	{ "detector", "remove", "remove a detector and its probes", NULL, { VM, ID("detector") }, { { 0 } } },
	{ "detector", "enable", "enable a detector", NULL, { VM, ID("detector") }, { { 0 } } },
	{ "detector",
	  "disable",
	  "disable a detector: it keeps its state, its probes leave the guest",
	  NULL,
	  { VM, ID("detector") },
	  { { 0 } } },
	{ "agg",
	  "show",
	  "print a probe's aggregation: a row per key, largest first; hist as bars",
	  "The agent keeps the table; this reads it (again with --watch). The journal keeps a snapshot "
	  "each second while hits come, and the last one when the probe is removed.",
	  { VM, ID("probe") },
	  {
		  NUM("limit", "K", 1, 100000, "the K largest rows only"),
		  FLAG("clear", "empty the table after reading it (intervals: each read shows what came since)"),
		  NUM("watch", "S", 1, 3600, "print it again every S seconds, until interrupted"),
	  } },
	{ "alerts",
	  NULL,
	  "print a VM's alerts (those in its journal), then with --follow the new ones",
	  NULL,
	  { VM },
	  {
		  FLAG("follow", "then print new alerts as they come, until interrupted"),
	  } },
	{ "export",
	  NULL,
	  "export a journal's hits as a trace file",
	  "Formats: csv, jsonl (JSON Lines), chrome (Chrome Trace Event JSON, for ui.perfetto.dev) "
	  "and ctf (CTF 1.8, a directory, for babeltrace2 and Trace Compass); docs/journal.md "
	  "describes them. No agent is needed for a JOURNAL file. With --vm N instead, the journal "
	  "of the agent's VM N: its own file when the agent is on this host, else (--socket "
	  "ssh://..., or another host's socket forwarded by hand) a copy read through the agent as "
	  "it is now, removed afterwards. With --out - the trace goes to stdout and the summary to "
	  "stderr (not for ctf, which is a directory).",
	  { { "JOURNAL", "JOURNAL", "a journal file (journal.hpj; hprobe vm list --json gives its path)", CLI_K_FILE,
	      CLI_OPTIONAL, 0, 0, NULL } },
	  {
		  OPT("vm", "N", CLI_K_TEXT, "the journal of this VM of the agent, instead of JOURNAL"),
		  { "format", "FORMAT", "csv, jsonl, chrome or ctf", CLI_K_WORD, CLI_REQ, 0, 0,
		    "csv jsonl chrome ctf" },
		  { "out", "PATH", "where to write (a directory for ctf; - for stdout)", CLI_K_DIR, CLI_REQ, 0, 0,
		    NULL },
		  { "probe", "ID[,ID...]", "only the hits of these probes (the option may also repeat)", CLI_K_NUM,
		    CLI_LIST, 0, UINT32_MAX, NULL },
		  { "pid", "P[,P...]", "only the hits of these tasks or processes (the option may also repeat)",
		    CLI_K_NUM, CLI_LIST, 0, INT32_MAX, NULL },
	  } },
	{ "agent", "start", "start the agent if it does not run, and describe it", NULL, { { 0 } }, { { 0 } } },
	{ "agent",
	  "stop",
	  "stop the agent: it detaches from every VM first (guests run on)",
	  NULL,
	  { { 0 } },
	  { { 0 } } },
	{ "agent", "info", "the agent's version, pid, socket, state directory and VMs", NULL, { { 0 } }, { { 0 } } },
	{ "fields",
	  NULL,
	  "list the fields of a hit: JSON members, CSV columns",
	  NULL,
	  { { 0 } },
	  {
		  WORDS("markdown", "WHERE", "stream export",
			"a Markdown table of the fields of the stream (the protocol) or of exports"),
	  } },
	{ "help",
	  NULL,
	  "help on a command (or on one subcommand)",
	  NULL,
	  { { "COMMAND", "COMMAND", "a command", CLI_K_CMD, CLI_OPTIONAL, 0, 0, NULL },
	    { "SUB", "SUB", "one of its subcommands", CLI_K_CMD, CLI_OPTIONAL, 0, 0, NULL } },
	  { { 0 } } },
};
const unsigned cli_ncmds = sizeof cli_cmds / sizeof cli_cmds[0];

const struct cli_groupdoc *cli_group(const char *name)
{
	for (unsigned i = 0; i < cli_ngroups; i++)
		if (!strcmp(cli_groups[i].name, name))
			return &cli_groups[i];
	return NULL;
}

const struct cli_cmddoc *cli_cmd(const char *group, const char *sub)
{
	for (unsigned i = 0; i < cli_ncmds; i++)
		if (!strcmp(cli_cmds[i].group, group) &&
		    ((!sub && !cli_cmds[i].sub) || (sub && cli_cmds[i].sub && !strcmp(cli_cmds[i].sub, sub))))
			return &cli_cmds[i];
	return NULL;
}

const char *cli_cmd_name(const struct cli_cmddoc *d, char *buf, size_t cap)
{
	snprintf(buf, cap, "%s%s%s", d->group, d->sub ? " " : "", d->sub ? d->sub : "");
	return buf;
}

/* Writes words, breaking lines before width; continuation lines start with indent spaces. */
struct wrap {
	FILE *f;
	int col, indent, width;
	int fresh; /* at the start of a line's text: no space before the next word */
};

static void wrap_word(struct wrap *w, const char *s, size_t n)
{
	if (!w->fresh && w->col + 1 + (int)n > w->width) {
		fprintf(w->f, "\n%*s", w->indent, "");
		w->col = w->indent;
	} else if (!w->fresh) {
		fputc(' ', w->f);
		w->col++;
	}
	fwrite(s, 1, n, w->f);
	w->col += (int)n;
	w->fresh = 0;
}

/* An option's value as the usage shows it: its choices (rel|mono|wall), or its name. */
static const char *meta_text(const struct cli_argdoc *o, char *buf, size_t cap)
{
	if (o->kind != CLI_K_WORD || !o->words)
		return o->meta;
	snprintf(buf, cap, "%s", o->words);
	for (char *p = buf; *p; p++)
		if (*p == ' ')
			*p = '|';
	return buf;
}

static void wrap_text(struct wrap *w, const char *t)
{
	while (*t) {
		while (*t == ' ')
			t++;
		size_t n = strcspn(t, " ");
		if (n)
			wrap_word(w, t, n);
		t += n;
	}
}

static void synopsis_item(struct wrap *w, const struct cli_argdoc *o)
{
	char buf[160], m[96];
	int req = o->flags & CLI_REQ;
	if (o->meta)
		snprintf(buf, sizeof buf, "%s--%s %s%s", req ? "" : "[", o->name, meta_text(o, m, sizeof m),
			 req ? "" : "]");
	else
		snprintf(buf, sizeof buf, "%s--%s%s", req ? "" : "[", o->name, req ? "" : "]");
	wrap_word(w, buf, strlen(buf));
}

void cli_print_synopsis(FILE *f, const struct cli_cmddoc *d, const char *prefix)
{
	char name[64], head[128];
	snprintf(head, sizeof head, "%shprobe %s", prefix, cli_cmd_name(d, name, sizeof name));
	fputs(head, f);
	struct wrap w = { f, (int)strlen(head), (int)strlen(head) + 1, 100, 0 };
	/* required options first, as the command reads: export JOURNAL --format F --out PATH */
	char buf[64];
	for (const struct cli_argdoc *p = d->pos; p->name; p++) {
		if (p->flags & CLI_REST)
			continue;
		snprintf(buf, sizeof buf, p->flags & CLI_OPTIONAL ? "[%s]" : "%s", p->name);
		wrap_word(&w, buf, strlen(buf));
	}
	for (const struct cli_argdoc *o = d->opts; o->name; o++)
		if (o->flags & CLI_REQ)
			synopsis_item(&w, o);
	for (const struct cli_argdoc *o = d->opts; o->name; o++)
		if (!(o->flags & CLI_REQ))
			synopsis_item(&w, o);
	for (const struct cli_argdoc *p = d->pos; p->name; p++)
		if (p->flags & CLI_REST) { /* the words after "--" come last */
			snprintf(buf, sizeof buf, "[%s]", p->name);
			wrap_word(&w, buf, strlen(buf));
		}
	fputc('\n', f);
}

/* "  left    doc" with doc at column col, wrapped under itself. */
static void print_item(FILE *f, const char *left, const char *doc, int col)
{
	int n = fprintf(f, "  %s", left);
	if (n > col - 2)
		fprintf(f, "\n%*s", col, "");
	else
		fprintf(f, "%*s", col - n, "");
	struct wrap w = { f, col, col, 100, 1 };
	wrap_text(&w, doc);
	fputc('\n', f);
}

static void print_opt(FILE *f, const struct cli_argdoc *o)
{
	char left[160], m[96];
	if (o->meta)
		snprintf(left, sizeof left, "--%s %s", o->name, meta_text(o, m, sizeof m));
	else
		snprintf(left, sizeof left, "--%s", o->name);
	print_item(f, left, o->doc, 26);
}

static void print_paragraphs(FILE *f, const char *t)
{
	struct wrap w = { f, 0, 0, 90, 1 };
	while (*t) {
		size_t n = strcspn(t, "\n");
		char para[2048];
		snprintf(para, sizeof para, "%.*s", (int)n, t);
		if (n) {
			w.col = 0;
			w.fresh = 1;
			wrap_text(&w, para);
		}
		fputc('\n', f);
		t += n;
		if (*t == '\n')
			t++;
	}
}

void cli_print_cmd_help(FILE *f, const struct cli_cmddoc *d)
{
	cli_print_synopsis(f, d, "usage: ");
	fputc('\n', f);
	char s[512];
	snprintf(s, sizeof s, "%s.", d->summary);
	s[0] = (char)(s[0] >= 'a' && s[0] <= 'z' ? s[0] - 32 : s[0]);
	print_paragraphs(f, s);
	if (d->detail) {
		fputc('\n', f);
		print_paragraphs(f, d->detail);
	}
	if (d->pos[0].name) {
		fputs("\narguments:\n", f);
		for (const struct cli_argdoc *p = d->pos; p->name; p++)
			print_item(f, p->name, p->doc, 26);
	}
	if (d->opts[0].name) {
		fputs("\noptions:\n", f);
		for (const struct cli_argdoc *o = d->opts; o->name; o++)
			print_opt(f, o);
	}
}

void cli_print_footer(FILE *f, int top)
{
	fputs(top ? "\noptions:\n" : "\nglobal options (before or after the command):\n", f);
	for (const struct cli_argdoc *o = cli_global_opts; o->name; o++)
		print_opt(f, o);
	if (top)
		for (const struct cli_argdoc *o = cli_top_opts; o->name; o++)
			print_opt(f, o);
	fputs("\nexit status:\n", f);
	for (const char *t = cli_exit_doc; *t;) {
		size_t n = strcspn(t, "\n");
		char line[512];
		snprintf(line, sizeof line, "%.*s", (int)n, t);
		char *tab = strchr(line, '\t');
		if (tab) {
			*tab = 0;
			print_item(f, line, tab + 1, 5);
		}
		t += n + (t[n] == '\n');
	}
}

void cli_print_group_synopses(FILE *f, const struct cli_groupdoc *g)
{
	const char *prefix = "usage: ";
	for (unsigned i = 0; i < cli_ncmds; i++)
		if (!strcmp(cli_cmds[i].group, g->name)) {
			cli_print_synopsis(f, &cli_cmds[i], prefix);
			prefix = "       ";
		}
}

void cli_print_group_help(FILE *f, const struct cli_groupdoc *g)
{
	if (!g->has_subs) {
		cli_print_cmd_help(f, cli_cmd(g->name, NULL));
		cli_print_footer(f, 0);
		return;
	}
	fprintf(f, "hprobe %s: %s\n\n", g->name, g->summary);
	cli_print_group_synopses(f, g);
	for (unsigned i = 0; i < cli_ncmds; i++)
		if (!strcmp(cli_cmds[i].group, g->name)) {
			fputs("\n", f);
			cli_print_cmd_help(f, &cli_cmds[i]);
		}
	cli_print_footer(f, 0);
}

void cli_print_main_help(FILE *f)
{
	fputs("usage: hprobe [--json] [--socket PATH|URL] [--no-start] COMMAND [ARGS...]\n"
	      "       hprobe --version | --help | help COMMAND [SUB]\n\ncommands:\n",
	      f);
	for (unsigned i = 0; i < cli_ncmds; i++)
		cli_print_synopsis(f, &cli_cmds[i], "  ");
	fputs("\nSPEC: kernel:FUNC[+OFF] | 0xADDR | app:BINARY:FUNC[+OFF]\n"
	      "hprobe help COMMAND, or hprobe COMMAND --help, explains a command and its options.\n",
	      f);
	cli_print_footer(f, 1);
}
