"""unit/test_layers — the layout rule of host/lib/README.md, checked on the sources
and on the built objects:

- includes: a file in host/lib/<layer>/ includes only its own folder, lower layers
  (earlier rows of the README's table) and the SDK (include/engram/); datasets/,
  plugins/<name>/, backends/<name>/ and host/cli/ include only their own folder and
  the SDK (a backend: backend.h, export.h, status.h and philox.h);
- no circle of files including each other, and none of files calling each other
  (from `nm` of the objects), except inside core/;
- no call from a lower layer into a higher one;
- datasets/ and every plugin call only SDK functions of libengram (EG_API in
  include/engram/), and no two files of one plugin call each other in a circle.
"""
import glob
import os
import re
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "common"))
from engram_test import check, finish, nm_symbols, sdk_functions  # noqa: E402

SRC = os.environ.get("ENGRAM_SOURCE", os.path.join(os.path.dirname(__file__), "..", ".."))
BUILD = os.environ.get("ENGRAM_BUILD", os.path.join(SRC, "build"))
LIB = os.path.join(SRC, "host", "lib")
INCLUDE_RE = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.M)


def layer_order():
    text = open(os.path.join(LIB, "README.md")).read()
    return re.findall(r"^\| `([a-z_]+)/` \|", text, re.M)


def sources(folder, exts=(".c", ".h")):
    return sorted(p for p in glob.glob(os.path.join(folder, "*")) if p.endswith(exts))


def includes(path):
    return INCLUDE_RE.findall(open(path, errors="replace").read())


def sccs(graph):
    """strongly connected components of size > 1 (iterative Tarjan)"""
    index, low, on, stack, out, counter = {}, {}, set(), [], [], [0]
    for root in graph:
        if root in index:
            continue
        work = [(root, iter(graph.get(root, ())))]
        index[root] = low[root] = counter[0]
        counter[0] += 1
        stack.append(root)
        on.add(root)
        while work:
            v, it = work[-1]
            w = next(it, None)
            if w is None:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[v])
                if low[v] == index[v]:
                    comp = []
                    while True:
                        x = stack.pop()
                        on.discard(x)
                        comp.append(x)
                        if x == v:
                            break
                    if len(comp) > 1:
                        out.append(sorted(comp))
            elif w not in index:
                index[w] = low[w] = counter[0]
                counter[0] += 1
                stack.append(w)
                on.add(w)
                work.append((w, iter(graph.get(w, ()))))
            elif w in on:
                low[v] = min(low[v], index[w])
    return out


def check_host_includes(order):
    rank = {name: i for i, name in enumerate(order)}
    folders = sorted(d for d in os.listdir(LIB) if os.path.isdir(os.path.join(LIB, d)))
    check(folders == sorted(order), "host/lib folders %s are the README's layers %s" % (folders, order))
    graph, bad = {}, []
    for layer in order:
        for path in sources(os.path.join(LIB, layer)):
            rel = os.path.relpath(path, LIB)
            graph.setdefault(rel, set())
            for inc in includes(path):
                if inc.startswith("engram/"):
                    continue
                if os.path.exists(os.path.join(LIB, layer, inc)):
                    target = os.path.join(layer, inc)
                elif inc.split("/")[0] in rank and os.path.exists(os.path.join(LIB, inc)):
                    target = inc
                else:
                    bad.append("%s includes \"%s\" (neither its folder, a layer nor the SDK)" % (rel, inc))
                    continue
                graph[rel].add(target)
                if rank[target.split("/")[0]] > rank[layer]:
                    bad.append("%s (layer %s) includes the higher layer's %s" % (rel, layer, target))
    check(not bad, "every include in host/lib goes to its own folder, a lower layer or the SDK" +
          "".join("\n       " + b for b in bad))
    cycles = [c for c in sccs(graph) if not all(f.startswith("core/") for f in c)]
    check(not cycles, "no include circle in host/lib outside core/ %s" % cycles)


def check_outside_includes():
    groups = [("datasets", os.path.join(SRC, "datasets"), None), ("host/cli", os.path.join(SRC, "host", "cli"), None)]
    for d in sorted(glob.glob(os.path.join(SRC, "plugins", "*"))):
        groups.append(("plugins/" + os.path.basename(d), d, None))
    backend_sdk = {"engram/backend.h", "engram/export.h", "engram/status.h", "engram/philox.h"}
    for d in sorted(glob.glob(os.path.join(SRC, "backends", "*"))):
        groups.append(("backends/" + os.path.basename(d), d, backend_sdk))
    for name, folder, allowed in groups:
        bad = []
        for path in sources(folder, (".c", ".h", ".cu")):
            for inc in includes(path):
                if os.path.exists(os.path.join(folder, inc)) and "/" not in inc:
                    continue
                if inc.startswith("engram/") and (allowed is None or inc in allowed):
                    continue
                bad.append("%s includes \"%s\"" % (os.path.relpath(path, SRC), inc))
        check(not bad, "%s includes only its own folder and the SDK" % name + "".join("\n       " + b for b in bad))


def objects(target, folder):
    base = os.path.join(BUILD, "CMakeFiles", target + ".dir")
    return sorted(glob.glob(os.path.join(base, folder, "**", "*.o"), recursive=True)), base


def check_calls(order, sdk):
    objs, base = objects("engram-objects", "")
    check(bool(objs), "libengram's objects are in %s" % base)
    if not objs:
        return
    rank = {name: i for i, name in enumerate(order)}
    owner, uses = {}, {}
    for o in objs:
        rel = os.path.relpath(o, base).replace("host/lib/", "").replace(".c.o", "")
        d, u = nm_symbols(o)
        uses[rel] = u
        for s in d:
            owner[s] = rel
    graph, up, ds_private = {}, [], []
    for f, u in uses.items():
        graph[f] = set()
        for s in u:
            g = owner.get(s)
            if not g or g == f:
                continue
            graph[f].add(g)
            lf, lg = f.split("/")[0], g.split("/")[0]
            if lf in rank and lg in rank and rank[lg] > rank[lf]:
                up.append("%s calls %s (%s) of a higher layer" % (f, s, g))
            if lf == "datasets" and lg != "datasets" and s not in sdk:
                ds_private.append("%s calls %s (%s), which is not SDK" % (f, s, g))
    check(not up, "no call from a lower layer of libengram into a higher one" + "".join("\n       " + x for x in up))
    check(not ds_private, "datasets/ calls only SDK functions of libengram" +
          "".join("\n       " + x for x in ds_private))
    cycles = [c for c in sccs(graph) if not all(f.startswith("core/") for f in c)]
    check(not cycles, "no circle of files calling each other in libengram outside core/ %s" % cycles)


def check_plugin_calls(sdk):
    lib_defined = set()
    for o in objects("engram-objects", "")[0]:
        lib_defined |= nm_symbols(o)[0]
    for d in sorted(glob.glob(os.path.join(SRC, "plugins", "*"))):
        name = os.path.basename(d)
        objs, base = objects("engram-model-%s-code" % name, "")
        check(bool(objs), "plugin %s's objects are built" % name)
        if not objs:
            continue
        owner, uses = {}, {}
        for o in objs:
            rel = os.path.basename(o).replace(".c.o", "")
            defined, undefined = nm_symbols(o)
            uses[rel] = undefined
            for s in defined:
                owner[s] = rel
        graph = {f: {owner[s] for s in u if s in owner and owner[s] != f} for f, u in uses.items()}
        private = sorted({s for u in uses.values() for s in u if s in lib_defined and s not in sdk})
        check(not private, "plugin %s calls only SDK functions of libengram %s" % (name, private))
        check(not sccs(graph), "no circle of files calling each other in plugin %s %s" % (name, sccs(graph)))


def main():
    order = layer_order()
    check(order[:1] == ["base"] and order[-1:] == ["runner"], "host/lib/README.md's table lists the layers %s" % order)
    check_host_includes(order)
    check_outside_includes()
    sdk = sdk_functions(SRC)
    check(len(sdk) > 200, "the SDK headers declare %d EG_API functions" % len(sdk))
    check_calls(order, sdk)
    check_plugin_calls(sdk)
    finish()


if __name__ == "__main__":
    main()
