#!/usr/bin/env python3
"""Checks the agent's layering from its own includes (docs/architecture.md).

Each folder of native/agent/src is a layer; a file may include headers of its own layer
or of layers below it, never above. Modules (foo.c + foo.h) must form no cycle, inside a
layer or across. Prints the graph's size and every violation; exit 1 on any.

    check_layers.py [--dot FILE]   (FILE: the module graph in Graphviz form)
"""
import os
import re
import sys

# top to bottom; main.c sits above them all
LAYERS = ["proto", "vm", "detectors", "probes", "guest", "backend", "base"]
SRC = os.path.join(os.path.dirname(os.path.abspath(__file__)), "src")
INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.M)


def modules():
    """{module: set of files}; a module is folder/stem (foo.c and foo.h together)."""
    mods = {}
    for folder, _, files in os.walk(SRC):
        for f in files:
            if f.endswith((".c", ".h")):
                rel = os.path.relpath(os.path.join(folder, f), SRC)
                mods.setdefault(os.path.splitext(rel)[0], set()).add(rel)
    return mods


def layer_of(module):
    top = module.split("/")[0]
    return -1 if "/" not in module else LAYERS.index(top) if top in LAYERS else None


def main():
    mods = modules()
    edges, problems = set(), []
    for mod, files in sorted(mods.items()):
        if "/" in mod and layer_of(mod) is None:
            problems.append("%s: folder %s is not a known layer" % (mod, mod.split("/")[0]))
        for f in sorted(files):
            text = open(os.path.join(SRC, f), encoding="utf-8").read()
            for inc in INCLUDE.findall(text):
                target = os.path.splitext(inc)[0]
                if target not in mods:
                    if "/" in inc and inc.split("/")[0] in LAYERS:
                        problems.append("%s: includes %s, which does not exist" % (f, inc))
                    continue  # libhprobe, the plugin's wire headers, system headers
                if target == mod:
                    continue
                edges.add((mod, target))
                lf, lt = layer_of(mod), layer_of(target)
                if lt is not None and lf is not None and lf != -1 and lt < lf:
                    problems.append("%s: includes %s, a layer above (%s over %s)"
                                    % (f, inc, LAYERS[lt], LAYERS[lf]))
    # cycles between modules (Tarjan's strongly connected components)
    graph = {m: sorted(t for (f, t) in edges if f == m) for m in mods}
    index, low, stack, on, sccs, counter = {}, {}, [], set(), [], [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                sccs.append(sorted(comp))

    sys.setrecursionlimit(10000)
    for v in sorted(mods):
        if v not in index:
            visit(v)
    for comp in sccs:
        problems.append("cycle between modules: " + " <-> ".join(comp))
    if len(sys.argv) == 3 and sys.argv[1] == "--dot":
        with open(sys.argv[2], "w", encoding="utf-8") as out:
            out.write("digraph agent {\n  rankdir=TB;\n")
            for layer in LAYERS:
                out.write('  subgraph "cluster_%s" { label="%s"; %s }\n' % (
                    layer, layer, " ".join('"%s";' % m for m in sorted(mods) if m.startswith(layer + "/"))))
            for f, t in sorted(edges):
                out.write('  "%s" -> "%s";\n' % (f, t))
            out.write("}\n")
    print("agent layers: %d modules, %d include arrows between them, %d problem(s)"
          % (len(mods), len(edges), len(problems)))
    for p in problems:
        print("  " + p)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
