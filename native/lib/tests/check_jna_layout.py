#!/usr/bin/env python3
"""The workbench reads libhprobe's structs through JNA at fixed offsets
(bundles/io.hprobe.core/.../LibHprobe.java). Each constant there that jna_layout
prints must equal the C compiler's value: a struct that grows without the Java side
following makes the workbench refuse libhprobe (and its tests skip).
Usage: check_jna_layout.py JNA_LAYOUT_BINARY LIBHPROBE_JAVA"""
import re
import subprocess
import sys


def main():
    exe, java = sys.argv[1:3]
    c = dict(line.split("=") for line in subprocess.run([exe], check=True, capture_output=True,
                                                         text=True).stdout.split())
    with open(java) as f:
        j = dict(re.findall(r"static final int (\w+) = (0x[0-9a-fA-F]+|\d+);", f.read()))
    bad = []
    for name, value in c.items():
        if name not in j:
            bad.append("%s: not in LibHprobe.java (C says %s)" % (name, value))
        elif int(j[name], 0) != int(value):
            bad.append("%s: LibHprobe.java says %s, C says %s" % (name, j[name], value))
    for b in bad:
        print(b)
    print("%d constants checked, %d differ" % (len(c), len(bad)))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
