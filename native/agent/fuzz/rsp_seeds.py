#!/usr/bin/env python3
"""Writes fuzz_rsp's seeds: what QEMU's x86-64 gdbstub answers to the requests of
fuzz_rsp.c's session, in order (a 10.0 stub, a 7.2 stub with its unprompted stop,
and one with run-length encoding and escapes). Run from anywhere; rewrites the corpus."""
import os

REGS = ([(n, 64) for n in "rax rbx rcx rdx rsi rdi rbp rsp r8 r9 r10 r11 r12 r13 r14 r15 rip".split()]
        + [("eflags", 32)] + [(n, 32) for n in "cs ss ds es fs gs".split()]
        + [(n, 64) for n in "fs_base gs_base k_gs_base cr0 cr2 cr3 cr4 cr8 efer".split()])


def pkt(payload, rle=False):
    body = payload
    if rle:  # the stub's own compression of runs: "0*<n+29>"
        body = body.replace("0000000000", "0*%s" % chr(9 + 29))
    return "+$%s#%02x" % (body, sum(body.encode()) & 0xff)


def session(rle=False, unprompted=False):
    xml = '<?xml version="1.0"?><target><architecture>i386:x86-64</architecture>' \
          '<xi:include href="64bit-core.xml"/></target>'
    core = '<feature name="org.gnu.gdb.i386.core"><!-- comment -->' + "".join(
        '<reg name="%s" bitsize="%d" type="int"%s/>' % (n, b, ' regnum="0"' if i == 0 else "")
        for i, (n, b) in enumerate(REGS)) + "</feature>"
    gsize = sum(b for _, b in REGS) // 8
    out = []
    if unprompted:
        out.append(pkt("T02thread:01;"))
    out += [pkt("PacketSize=1000;qXfer:features:read+;multiprocess+;swbreak+"),
            pkt("l" + xml), pkt("l" + core), pkt("T05thread:p01.01;"),
            pkt("00" * gsize, rle)]
    out += [pkt("90" * 1024, rle), pkt("90" * 1024, rle), pkt("90" * 452, rle)]
    out += [pkt("OK"), pkt("OK"), pkt("OK"), pkt("OK"),
            pkt("O" + "VM status: running\n".encode().hex()), pkt("OK"), pkt("T05thread:p01.01;"), pkt("OK")]
    return "".join(out).encode()


def main():
    d = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus", "fuzz_rsp")
    os.makedirs(d, exist_ok=True)
    for name, data in (("qemu10", session()), ("qemu72", session(unprompted=True)),
                       ("rle", session(rle=True)), ("refused", pkt("").encode() + pkt("E01").encode())):
        with open(os.path.join(d, name), "wb") as f:
            f.write(data)


if __name__ == "__main__":
    main()
