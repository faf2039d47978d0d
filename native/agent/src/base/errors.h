/* Protocol error classes (docs/protocol.md). Modules that know why something failed
 * say so with one of these; the server turns it into {"class": ...}. */
#ifndef HP_ERRORS_H
#define HP_ERRORS_H

enum hp_eclass {
	EC_INTERNAL = 0,
	EC_MALFORMED_FRAME,
	EC_FRAME_TOO_LARGE,
	EC_UNKNOWN_COMMAND,
	EC_INVALID_ARGUMENT,
	EC_UNKNOWN_VM,
	EC_UNKNOWN_PROBE,
	EC_UNKNOWN_SYMBOL,
	EC_UNKNOWN_DETECTOR,
	EC_BAD_ADDRESS,
	EC_UNSAFE_ADDRESS,
	EC_VM_DEAD,
	EC_VM_BUSY,
	EC_NOT_SUPPORTED,
	EC_IO_ERROR,
	EC_GUEST_ERROR,
	EC_TIMEOUT,
};

static inline const char *hp_eclass_name(enum hp_eclass c)
{
	static const char *const names[] = {
		"Internal",     "MalformedFrame", "FrameTooLarge",   "UnknownCommand", "InvalidArgument", "UnknownVm",
		"UnknownProbe", "UnknownSymbol",  "UnknownDetector", "BadAddress",     "UnsafeAddress",   "VmDead",
		"VmBusy",       "NotSupported",   "IoError",         "GuestError",     "Timeout",
	};
	return (unsigned)c < sizeof names / sizeof names[0] ? names[c] : "Internal";
}
#endif
