#!/usr/bin/env python3
"""
NAME
	t_layers.py - the source folders keep their layers; no file cycles
DESCRIPTION
	Reads every #include "..." line under src/ and checks it against
	LAYERS below (the same table as docs/architecture.md): a file in
	folder F may include a header of F itself or of a folder listed for
	F, nothing else. Then, from the built objects (make check builds
	them first), it reads the names each .c file uses and defines with
	nm(1): every name must come from the file's own folder or an allowed
	one, and no two .c files may use each other's names, directly or
	around a longer cycle (a cycle between files). Includes alone cannot
	show that: store.c and store_expire.c both include store_impl.h.
	Without objects or nm the second part is skipped, with a note.
	Base names are unique across folders (the build has one -I per
	folder), so a base name names one file.
DIAGNOSTICS
	One line per problem, then exit 1; "ok" lines and exit 0 otherwise.
	Environment: TG_SRCDIR (sources), TG_BUILDDIR (objects).
"""
import collections
import os
import re
import shutil
import subprocess
import sys

# folder: the folders its files may include (and whose names they may
# use), bottom layer first; the same table is in docs/architecture.md.
# metrics and report are reserved for the Prometheus endpoint and the
# report. A new folder needs a row here and there.
LAYERS = {
    'base':    [],
    'dns':     ['base', 'metrics'],
    'spf':     ['base', 'dns', 'metrics'],
    'table':   ['base', 'metrics'],
    'tarpit':  ['base', 'metrics'],
    'policy':  ['base', 'table', 'spf'],
    'state':   ['base', 'policy', 'metrics'],
    'metrics': ['base'],
    'report':  ['base', 'policy', 'state', 'metrics'],
    'milter':  ['base', 'dns', 'spf', 'table', 'tarpit', 'policy', 'state', 'metrics'],
    'ctl':     ['base', 'dns', 'spf', 'table', 'tarpit', 'policy', 'state', 'metrics',
                'report'],
}
GENERATED = {'autoconfig.h'}	# configure's header: allowed everywhere
INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.M)


def sources(src):
    """{base name: folder} of every .c, .h and .def (X-macro tables); problems for duplicates."""
    where, problems = {}, []
    for folder in sorted(os.listdir(src)):
        path = os.path.join(src, folder)
        if folder.startswith('.') or not os.path.isdir(path):
            continue
        if folder not in LAYERS:
            problems.append('src/%s: folder not in the layer table' % folder)
        for name in sorted(os.listdir(path)):
            if not name.endswith(('.c', '.h', '.def')):
                continue
            if name in where:
                problems.append('%s: in src/%s and src/%s' % (name, where[name], folder))
            where[name] = folder
    return where, problems


def check_includes(src, where):
    """Problems with include directions."""
    problems = []
    for name, folder in sorted(where.items()):
        text = open(os.path.join(src, folder, name), errors='replace').read()
        for inc in INCLUDE.findall(text):
            if inc in GENERATED:
                continue
            if inc not in where:
                problems.append('src/%s/%s: includes "%s", not under src/' % (folder, name, inc))
                continue
            to = where[inc]
            if to != folder and to not in LAYERS.get(folder, []):
                problems.append('src/%s/%s: includes "%s" of src/%s (%s may include: %s)'
                                % (folder, name, inc, to, folder,
                                   ', '.join(LAYERS.get(folder, [])) or 'nothing'))
    return problems


def cycles(graph):
    """Strongly connected components of more than one node (Tarjan)."""
    index, low, stack, on, out, count = {}, {}, [], set(), [], [0]

    def visit(v):
        index[v] = low[v] = count[0]
        count[0] += 1
        stack.append(v)
        on.add(v)
        for w in sorted(graph.get(v, ())):
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
                out.append(sorted(comp))
    sys.setrecursionlimit(10000)
    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out


def symbol_graph(build, where):
    """(problems, graph of .c files by the names they use), or None."""
    if shutil.which('nm') is None:
        return None
    objs = {}
    for folder in LAYERS:
        d = os.path.join(build, 'src', folder)
        if os.path.isdir(d):
            for o in os.listdir(d):
                c = re.sub(r'^.*-', '', o[:-2]) + '.c' if o.endswith('.o') else None
                if c and where.get(c) == folder:
                    objs[c] = os.path.join(d, o)
    if not objs:
        return None
    defs, uses = {}, collections.defaultdict(set)
    for c, o in objs.items():
        out = subprocess.run(['nm', o], capture_output=True, text=True).stdout
        for line in out.split('\n'):
            f = line.split()
            if len(f) == 3 and f[1] in 'TDBRVW':
                defs[f[2]] = c
            elif len(f) == 2 and f[0] == 'U':
                uses[c].add(f[1])
    problems, graph = [], collections.defaultdict(set)
    for c, names in sorted(uses.items()):
        for n in sorted(names):
            d = defs.get(n)
            if d is None or d == c:
                continue
            graph[c].add(d)
            a, b = where[c], where[d]
            if a != b and b not in LAYERS.get(a, []):
                problems.append('src/%s/%s: uses %s of src/%s/%s' % (a, c, n, b, d))
    return problems, graph, len(objs)


def main():
    srcdir = os.environ.get('TG_SRCDIR') or os.path.join(os.path.dirname(__file__), '..', '..')
    build = os.environ.get('TG_BUILDDIR') or srcdir
    src = os.path.join(srcdir, 'src')
    where, problems = sources(src)
    problems += check_includes(src, where)
    print('ok: %d files in %d folders read' % (len(where), len(set(where.values()))))
    sym = symbol_graph(build, where)
    if sym is None:
        print('note: no objects or no nm; names not checked')
    else:
        problems += sym[0]
        for comp in cycles(sym[1]):
            problems.append('cycle between files (each uses names of the next): '
                            + ', '.join(comp))
        print('ok: names used by %d objects read' % sym[2])
    for p in problems:
        print(p)
    return 1 if problems else 0


if __name__ == '__main__':
    sys.exit(main())
