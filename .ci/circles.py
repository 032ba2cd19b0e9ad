#!/usr/bin/env python3
"""Finds circles between the files of each crate: file A names an item of file B
(`use crate::b::X`, `super::X`, `crate::b::X` in code) and B names one of A,
directly or through other files. Test modules (`#[cfg(test)] mod tests { use super::*; }`)
and doc comments are ignored; re-exports (`pub use x::Y` in a parent) are followed to
the file that defines the item. Usage: circles.py CRATE_SRC_DIR... (each root in it: lib.rs, main.rs, bin/*.rs);
exit 1 on a circle."""
import os, re, sys

ITEM = re.compile(r'^\s*(?:pub(?:\([^)]*\))?\s+)?(?:async\s+|const\s+|unsafe\s+)*(?:struct|enum|fn|const|static|trait|type|union|mod|macro_rules!)\s+([A-Za-z_][A-Za-z0-9_]*)', re.M)
PUBUSE = re.compile(r'^\s*pub(?:\([^)]*\))?\s+use\s+([^;]+);', re.M)
USE = re.compile(r'^\s*(?:pub(?:\([^)]*\))?\s+)?use\s+([^;]+);', re.M)
PATH = re.compile(r'\b((?:crate|super|self)(?:::[A-Za-z_][A-Za-z0-9_]*)+)')

def strip(text):
    # string literals are not code (a `"crate::X"` in a message, a `//` in a URL)
    text = re.sub(r"'(?:\\.|[^'\\])'", "' '", text)
    text = re.sub(r'\br(#*)"(?:.|\n)*?"\1', '""', text)
    text = re.sub(r'"(?:\\.|[^"\\])*"', '""', text)
    text = re.sub(r'//[^\n]*', '', text)
    # drop #[cfg(test)] modules (brace-matched)
    out, i = [], 0
    for m in re.finditer(r'#\[cfg\(test\)\]\s*(?:#\[[^\]]*\]\s*)*(?:pub(?:\([^)]*\))?\s+)?mod\s+\w+\s*\{', text):
        if m.start() < i: continue
        out.append(text[i:m.start()])
        depth, j = 1, m.end()
        while j < len(text) and depth:
            depth += {'{': 1, '}': -1}.get(text[j], 0); j += 1
        i = j
    out.append(text[i:])
    return ''.join(out)

def expand(tree):
    """`a::{b, c::{d, e as f}}` -> [('a::b', 'b'), ('a::c::d', 'd'), ('a::c::e', 'f')]:
    each path a `use` tree names, with the name it is known by here."""
    tree = re.sub(r'\s+as\s+', ' as ', tree.strip())
    tree = re.sub(r'\s*(::|,|\{|\})\s*', r'\1', tree)
    def go(prefix, s):
        if '{' not in s:
            path, _, alias = s.partition(' as ')
            return [(prefix + path, alias or path.split('::')[-1])] if path else []
        i = s.index('{')
        head, body = s[:i], s[i + 1:s.rindex('}')]
        return [x for part in split_top(body) for x in go(prefix + head, part)]
    return [x for part in split_top(tree) for x in go('', part)]

def split_top(s):
    parts, depth, cur = [], 0, ''
    for ch in s:
        if ch == '{': depth += 1
        if ch == '}': depth -= 1
        if ch == ',' and depth == 0:
            parts.append(cur); cur = ''
        else: cur += ch
    if cur: parts.append(cur)
    return parts

MOD = re.compile(r'^\s*(?:#\[[^\]]*\]\s*)*(?:pub(?:\([^)]*\))?\s+)?mod\s+([A-Za-z_][A-Za-z0-9_]*)\s*;', re.M)

def crate_files(root_file):
    """The files of the crate whose root is `root_file`, by module path, found by
    following `mod name;` declarations (a lib and a bin in one folder are two crates)."""
    files, todo = {(): root_file}, [((), root_file)]
    while todo:
        mod, path = todo.pop()
        d, base = os.path.split(path)
        own = d if base in ('lib.rs', 'main.rs', 'mod.rs') else os.path.join(d, base[:-3])
        text = strip(open(path).read())
        for name in MOD.findall(text):
            for cand in (os.path.join(own, name + '.rs'), os.path.join(own, name, 'mod.rs')):
                if os.path.exists(cand):
                    files[mod + (name,)] = cand
                    todo.append((mod + (name,), cand))
                    break
    return files

IMPL = re.compile(r'\bimpl\b(?:\s*<[^{]*?>)?\s+(?:[A-Za-z_][A-Za-z0-9_:<>, \']*\s+for\s+)?([A-Za-z_][A-Za-z0-9_]*)[^{;]*\{')

def impl_blocks(text):
    """(type, body) of each `impl Type {..}` / `impl Trait for Type {..}` block."""
    out = []
    for m in IMPL.finditer(text):
        depth, j = 1, m.end()
        while j < len(text) and depth:
            depth += {'{': 1, '}': -1}.get(text[j], 0); j += 1
        out.append((m.group(1), text[m.end():j]))
    return out

def method_edges(text):
    """A method of a type called on `self` in one file and defined in another
    (one type's `impl` blocks spread over several files) is an edge too."""
    defined = {}
    for m, t in text.items():
        for ty, body in impl_blocks(t):
            for name in re.findall(r'\bfn\s+([a-z_][a-z0-9_]*)', body):
                defined.setdefault((ty, name), set()).add(m)
    edges = {}
    for m, t in text.items():
        for ty, body in impl_blocks(t):
            for name in set(re.findall(r'\bself\s*\.\s*([a-z_][a-z0-9_]*)\s*(?:::<[^>]*>)?\s*\(', body)):
                owners = defined.get((ty, name), set())
                if len(owners) == 1 and m not in owners:
                    edges.setdefault(m, set()).update(owners)
    return edges

def analyse(root_file):
    files = crate_files(root_file)
    text = {m: strip(open(p).read()) for m, p in files.items()}
    items = {m: set(ITEM.findall(t)) for m, t in text.items()}
    reexp, globs = {}, {}
    for m, t in text.items():
        for tree in PUBUSE.findall(t):
            for p, alias in expand(tree):
                segs = [x for x in p.split('::') if x]
                if not segs: continue
                if segs[-1] == '*':
                    g = resolve_mod(m, segs[:-1], files)
                    if g is not None: globs.setdefault(m, []).append(g)
                    continue
                reexp.setdefault(m, {})[alias] = resolve_mod(m, segs[:-1], files), segs[-1]
    def owner(mod, name, depth=0):
        if mod is None or depth > 10: return mod
        if name in items.get(mod, ()) : return mod if (name,) and mod + (name,) not in files else mod + (name,)
        r = reexp.get(mod, {}).get(name)
        if r and r[0] is not None: return owner(r[0], r[1], depth + 1)
        for g in globs.get(mod, ()):
            if name in items.get(g, ()) or name in reexp.get(g, {}):
                return owner(g, name, depth + 1)
        return mod
    edges = {}
    for m, t in text.items():
        paths = []
        for tree in USE.findall(t):
            paths += [p for p, _ in expand(tree)]
        # A parent's `pub use child::X` is its table of contents, not a use of the child.
        exported = set()
        for tree in PUBUSE.findall(t):
            exported.update(p for p, _ in expand(tree))
        # a path that goes on into `::{..}` or `::*` is a `use` prefix, expanded above
        paths += [x.group(1) for x in PATH.finditer(t) if not re.match(r'\s*::\s*[{*]', t[x.end():])]
        for x in re.finditer(r'(?<![A-Za-z0-9_:])([a-z_][a-z0-9_]*)((?:::[A-Za-z_][A-Za-z0-9_]*)+)', t):
            if m + (x.group(1),) in files and not re.match(r'\s*::\s*[{*]', t[x.end():]):
                paths.append(x.group(1) + x.group(2))
        for p in paths:
            segs = [x for x in p.split('::') if x]
            if not segs or segs[0] not in ('crate', 'super', 'self'):
                # a path relative to this module: `child::X`
                if segs and m + (segs[0],) in files: segs = ['self'] + segs
                else: continue
            if segs[-1] == '*':
                continue
            target = resolve_mod(m, segs[:-1], files)
            if target is None: continue
            if inline_mod(text.get(target, ''), segs, target, m):
                continue
            last = segs[-1]
            if target + (last,) in files:
                tgt = target + (last,)
            else:
                tgt = owner(target, last)
            if p in exported and tgt is not None and tgt[:len(m)] == m:
                continue
            if tgt is not None and tgt != m and tgt in files:
                edges.setdefault(m, set()).add(tgt)
    for m, targets in method_edges(text).items():
        edges.setdefault(m, set()).update(targets)
    return files, edges

def inline_mod(t, segs, target, m):
    """The path goes into a module written inline in `target`'s file (`mod api { .. }`)."""
    names = [x for x in segs if x not in ('crate', 'self', 'super')]
    for n in names:
        if re.search(r'\bmod\s+' + re.escape(n) + r'\s*\{', t):
            return True
    return False

def resolve_mod(m, segs, files):
    cur = None
    for i, s in enumerate(segs):
        if i == 0:
            if s == 'crate': cur = ()
            elif s == 'self': cur = m
            elif s == 'super': cur = m[:-1]
            elif m + (s,) in files:
                cur = m + (s,)
            elif () in files and (s,) in files and m == ():
                cur = (s,)
            else:
                return None
            continue
        if s == 'super': cur = cur[:-1]; continue
        if s == 'self': continue
        if cur + (s,) in files: cur = cur + (s,)
        else: return cur
    return cur

def sccs(nodes, edges):
    index, low, stack, on, out, n = {}, {}, [], set(), [], [0]
    sys.setrecursionlimit(10000)
    def visit(v):
        index[v] = low[v] = n[0]; n[0] += 1; stack.append(v); on.add(v)
        for w in edges.get(v, ()):
            if w not in index: visit(w); low[v] = min(low[v], low[w])
            elif w in on: low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop(); on.discard(w); comp.append(w)
                if w == v: break
            if len(comp) > 1: out.append(comp)
    for v in nodes:
        if v not in index: visit(v)
    return out

def roots(src):
    """The crate roots in a `src` folder: lib.rs, main.rs and src/bin/*.rs."""
    out = [os.path.join(src, f) for f in ('lib.rs', 'main.rs') if os.path.exists(os.path.join(src, f))]
    bins = os.path.join(src, 'bin')
    if os.path.isdir(bins):
        out += sorted(os.path.join(bins, f) for f in os.listdir(bins) if f.endswith('.rs'))
    return out

def main(dirs):
    bad = 0
    for src in dirs:
        for root in roots(src):
            files, edges = analyse(root)
            for comp in sccs(sorted(files), edges):
                bad += 1
                names = sorted(os.path.relpath(files[m], src) for m in comp)
                print(f"{root}: circle between {', '.join(names)}")
                for m in sorted(comp):
                    for w in sorted(edges.get(m, ())):
                        if w in comp:
                            print(f"    {os.path.relpath(files[m], src)} -> {os.path.relpath(files[w], src)}")
    print(f"{bad} circle(s)")
    return 1 if bad else 0

if __name__ == '__main__':
    sys.exit(main(sys.argv[1:] or ['src']))
