#!/usr/bin/env bash
# Checks the include structure that keeps the layers one-way:
#   1. no header cycle between the modules of orchestrator/supervisor (a
#      module is a file stem: foo.c and foo.h; foo.c including foo.h is
#      fine, foo including bar.h while bar includes foo.h is a cycle);
#   2. nothing in runtime/ or net/ includes a header of orchestrator/.
# Reads only the `#include "..."` lines.  Usage: check-includes.sh [SOURCE_DIR]
set -euo pipefail
src=${1:-$(cd "$(dirname "$0")/.." && pwd)}
exec python3 - "$src" <<'PY'
import os, re, sys

src = sys.argv[1]
include = re.compile(r'^\s*#\s*include\s+"([^"]+)"')
failed = False

def includes(path):
    with open(path, encoding="utf-8", errors="replace") as f:
        for line in f:
            m = include.match(line)
            if m:
                yield m.group(1)

# 2. runtime/ and net/ stay below orchestrator/
for top in ("runtime", "net"):
    for root, _, files in os.walk(os.path.join(src, top)):
        for name in sorted(files):
            if not name.endswith((".c", ".h")):
                continue
            path = os.path.join(root, name)
            for inc in includes(path):
                if inc.startswith("orchestrator/"):
                    print(f"{os.path.relpath(path, src)}: includes {inc}: "
                          f"{top}/ must not depend on orchestrator/")
                    failed = True

# 1. the supervisor's modules include each other one way
sup = os.path.join(src, "orchestrator", "supervisor")
edges = {}
for name in sorted(os.listdir(sup)):
    if not name.endswith((".c", ".h")):
        continue
    mod = name[:-2]
    edges.setdefault(mod, set())
    for inc in includes(os.path.join(sup, name)):
        inc = inc[len("orchestrator/supervisor/"):] if inc.startswith("orchestrator/supervisor/") else inc
        if "/" in inc or not os.path.exists(os.path.join(sup, inc)):
            continue  # another folder's header
        dep = inc[:-2]
        if dep != mod:
            edges[mod].add(dep)

# Tarjan's strongly connected components: any with two modules or more
# is a cycle.
index, low, stack, on, sccs = {}, {}, [], set(), []
def visit(v):
    index[v] = low[v] = len(index)
    stack.append(v)
    on.add(v)
    for w in sorted(edges.get(v, ())):
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
        sccs.append(comp)

sys.setrecursionlimit(10000)
for v in sorted(edges):
    if v not in index:
        visit(v)

def cycle_in(comp):
    """One cycle through the component, as a path of modules."""
    members = set(comp)
    start = min(comp)
    path, seen = [start], {start}
    def walk(v):
        for w in sorted(edges[v]):
            if w == start and len(path) > 1:
                return True
            if w in members and w not in seen:
                seen.add(w)
                path.append(w)
                if walk(w):
                    return True
                path.pop()
        return False
    walk(start)
    return path + [start]

for comp in sccs:
    if len(comp) > 1:
        print("orchestrator/supervisor: include cycle: " + " -> ".join(cycle_in(comp)))
        failed = True

if failed:
    sys.exit(1)
print(f"include structure ok ({len(edges)} supervisor modules)")
PY
