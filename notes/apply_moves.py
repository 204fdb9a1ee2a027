#!/usr/bin/env python3
"""Rewrite module paths in files after modules moved (issue 15), from notes/moves.txt.

    python notes/apply_moves.py [--moves notes/moves.txt] [--symbols notes/symbol-moves.txt] [--root .]
                                [--no-ruff] [--check] PATH...

PATH is a file or a folder (walked; .git, .venv, node_modules, instance and __pycache__ skipped).
Each line of moves.txt is `old.dotted.module new.dotted.module` (`#` starts a comment).

What it rewrites:
* Python imports, absolute and relative: `from govservice.clock import now`,
  `from ..clock import now`, `from . import clock, pii` (the names that are moved modules are
  imported from their new package; the rest stay), `import govservice.clock`. An import that
  must change is written relative when the file itself stays where it is, absolute when the file
  is itself moved (so it holds wherever git's rename detection puts it). A moved file's relative
  imports are read as they were meant at its old place (the content came from there).
* Names that moved between modules (notes/symbol-moves.txt), where they are imported by name:
  `from govservice.clock import add_working_days` -> `from govservice.calendar.working import
  add_working_days`. A use through the module (`clock.add_working_days(...)`) is not rewritten:
  grep for the names in symbol-moves.txt after running it.
* Dotted names anywhere in text: strings such as "govservice.worker", `mock.patch("govservice.clock.now")`,
  `celery -A govservice.worker`, configs; and paths `govservice/clock.py`.

Afterwards, unless --no-ruff, `ruff check --fix --select I` (import order) and `ruff format` run on the
Python files it changed. It is idempotent: a second run changes nothing. --check only lists what would
change (exit status 1 if anything would).
"""

from __future__ import annotations

import argparse
import ast
import re
import shutil
import subprocess
import sys
from pathlib import Path

SKIP_DIRS = {".git", ".venv", "node_modules", "instance", "__pycache__", ".pytest_cache", ".ruff_cache"}
TEXT_SUFFIXES = {".py", ".toml", ".ini", ".cfg", ".sh", ".yml", ".yaml", ".conf", ".md", ".html", ".txt", ".json"}
TEXT_NAMES = {"Makefile", "run", "Dockerfile", "Procfile"}


def read_moves(path: Path) -> dict[str, str]:
    """`old new` pairs, one a line; `#` starts a comment, anything after the two names is a note."""
    moves = {}
    if not path.exists():
        return moves
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        old, new = line.split()[:2]
        moves[old] = new
    return moves


class Mover:
    def __init__(self, moves: dict[str, str], root: Path, symbols: dict[str, str] | None = None):
        self.moves = moves
        self.symbols = symbols or {}  # module.name -> new.module.name (a name that moved between modules)
        self.reverse = {new: old for old, new in moves.items()}
        self.root = root.resolve()
        # longest first, so that a.b.c is matched before a.b
        self._ordered = sorted(moves.items(), key=lambda kv: -len(kv[0]))
        self._dotted = [(re.compile(r"(?<![\w.])" + re.escape(old) + r"(?![\w])"), new) for old, new in self._ordered]
        self._paths = [
            (
                re.compile(r"(?<![\w/])" + re.escape(old.replace(".", "/")) + r"\.py\b"),
                new.replace(".", "/") + ".py",
            )
            for old, new in self._ordered
        ]

    # --- modules -------------------------------------------------------------------------------
    def map_module(self, name: str) -> str:
        """The new name of module `name` (or of an attribute path below a moved module)."""
        for old, new in self._ordered:
            if name == old or name.startswith(old + "."):
                return new + name[len(old) :]
        return name

    def exists(self, module: str) -> bool:
        path = self.root.joinpath(*module.split("."))
        return path.with_suffix(".py").is_file() or (path / "__init__.py").is_file()

    def defines(self, module: str | None, names: list[str]) -> bool:
        """Whether `module` exists and defines every one of `names` (a top-level def, class or
        assignment, or a submodule; a name it merely imports does not count)."""
        if not module or not self.exists(module):
            return False
        path = self.root.joinpath(*module.split("."))
        source = path.with_suffix(".py") if path.with_suffix(".py").is_file() else path / "__init__.py"
        try:
            tree = ast.parse(source.read_text(encoding="utf-8"))
        except (SyntaxError, UnicodeDecodeError):
            return False
        found = set()
        for node in tree.body:
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                found.add(node.name)
            elif isinstance(node, (ast.Assign, ast.AnnAssign)):
                for target in node.targets if isinstance(node, ast.Assign) else [node.target]:
                    found.update(n.id for n in ast.walk(target) if isinstance(n, ast.Name))
        return all(n in found or self.exists(f"{module}.{n}") for n in names if n != "*")

    def module_of(self, file: Path) -> tuple[str, bool] | None:
        try:
            rel = file.resolve().relative_to(self.root)
        except ValueError:
            return None
        parts = list(rel.with_suffix("").parts)
        is_package = parts[-1] == "__init__"
        if is_package:
            parts = parts[:-1]
        return ".".join(parts), is_package

    @staticmethod
    def resolve(level: int, module: str | None, base: str, is_package: bool) -> str | None:
        if level == 0:
            return module
        parts = base.split(".")
        if not is_package:
            parts = parts[:-1]
        if level - 1 > len(parts) - 1:
            return None  # above the top package
        anchor = parts[: len(parts) - (level - 1)]
        return ".".join(anchor + ([module] if module else []))

    @staticmethod
    def relative(target: str, base: str, is_package: bool) -> str:
        """`target` written relative to the module `base` (a package when is_package)."""
        here = base.split(".") if is_package else base.split(".")[:-1]
        there = target.split(".")
        common = 0
        while common < min(len(here), len(there)) and here[common] == there[common]:
            common += 1
        if common == 0:
            return target
        dots = "." * (len(here) - common + 1)
        return dots + ".".join(there[common:])

    # --- Python imports ------------------------------------------------------------------------
    def rewrite_imports(self, file: Path, text: str) -> str:
        where = self.module_of(file)
        if where is None:
            return text
        current, is_package = where
        old_place = self.reverse.get(current)  # this file is a moved module, at its new place
        new_place = self.moves.get(current)  # this file is a moved module, still at its old place
        moved_file = old_place is not None or new_place is not None
        try:
            tree = ast.parse(text)
        except SyntaxError:
            return text
        lines = text.splitlines(keepends=True)
        edits = []  # (first line index, last line index, replacement text)
        for node in ast.walk(tree):
            if not isinstance(node, ast.ImportFrom):
                continue
            source = None
            if node.level and old_place is not None:
                source = self.resolve(node.level, node.module, old_place, is_package)
                if source is not None and not self.exists(self.map_module(source)):
                    source = None  # written for the new place already
                elif source is not None and self.defines(
                    self.resolve(node.level, node.module, current, is_package), [a.name for a in node.names]
                ):
                    source = None  # read from the new place it names what it imports: written there
            written_here = source is None  # the text is read from where the file is now
            if source is None:
                source = self.resolve(node.level, node.module, current, is_package)
            if source is None:
                continue
            groups: dict[str, list[str]] = {}
            for alias in node.names:
                full = f"{source}.{alias.name}"
                target = self.map_module(full)
                if alias.name != "*" and target != full and target.rsplit(".", 1)[0] != self.map_module(source):
                    module, name = target.rsplit(".", 1)  # a moved module imported by name from its package
                    shown = alias.asname or (alias.name if name != alias.name else None)
                elif (
                    f"{source}.{alias.name}" in self.symbols
                    or f"{self.map_module(source)}.{alias.name}" in self.symbols
                ):
                    moved = (
                        self.symbols.get(f"{source}.{alias.name}")
                        or self.symbols[f"{self.map_module(source)}.{alias.name}"]
                    )
                    module, name = moved.rsplit(".", 1)  # a name that moved to another module
                    shown = alias.asname or (alias.name if name != alias.name else None)
                else:
                    module, name, shown = self.map_module(source), alias.name, alias.asname
                groups.setdefault(module, []).append(f"{name} as {shown}" if shown and shown != name else name)
            if len(groups) == 1:
                (module,) = groups
                if node.level:
                    # unchanged when the text, read from where the file is (and was, or will be), names it
                    places = [p for p in (current, None if written_here else old_place, new_place) if p]
                    reads = {
                        self.map_module(self.resolve(node.level, node.module, p, is_package) or "") for p in places
                    }
                    here = self.resolve(node.level, node.module, current, is_package)
                    if here is not None and reads == {module} and (here == module or new_place is not None):
                        continue
                elif module == node.module:
                    continue
            indent = lines[node.lineno - 1][: node.col_offset]
            tail = lines[node.end_lineno - 1][node.end_col_offset :].rstrip("\n")
            out = []
            for module, names in groups.items():
                written = module if moved_file or not node.level else self.relative(module, current, is_package)
                out.append(f"{indent}from {written} import {', '.join(names)}")
            out[-1] += tail
            edits.append((node.lineno - 1, node.end_lineno - 1, "\n".join(out) + "\n"))
        for first, last, replacement in sorted(edits, reverse=True):
            lines[first : last + 1] = [replacement]
        return "".join(lines)

    # --- any text ------------------------------------------------------------------------------
    def rewrite_text(self, text: str) -> str:
        for pattern, new in self._dotted:
            text = pattern.sub(new, text)
        for pattern, new in self._paths:
            text = pattern.sub(new, text)
        return text


def wanted(path: Path) -> bool:
    return path.suffix in TEXT_SUFFIXES or path.name in TEXT_NAMES


def walk(paths: list[str]):
    for raw in paths:
        path = Path(raw)
        if path.is_file():
            yield path
        elif path.is_dir():
            for sub in sorted(path.rglob("*")):
                if sub.is_file() and not SKIP_DIRS.intersection(sub.parts) and wanted(sub):
                    yield sub


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("paths", nargs="+")
    parser.add_argument("--moves", default=str(Path(__file__).with_name("moves.txt")))
    parser.add_argument(
        "--symbols",
        default=str(Path(__file__).with_name("symbol-moves.txt")),
        help="names that moved between modules: `from old.module import name` is rewritten (attribute uses are not)",
    )
    parser.add_argument("--root", default=".", help="the folder that holds the govservice package")
    parser.add_argument("--no-ruff", action="store_true")
    parser.add_argument("--check", action="store_true", help="list what would change, change nothing")
    args = parser.parse_args(argv)
    moves_file = Path(args.moves).resolve()
    mover = Mover(read_moves(moves_file), Path(args.root), read_moves(Path(args.symbols)))
    changed = []
    for path in walk(args.paths):
        if path.resolve() in (moves_file, Path(args.symbols).resolve(), Path(__file__).resolve()):
            continue
        try:
            text = path.read_text(encoding="utf-8")
        except (UnicodeDecodeError, OSError):
            continue
        new = text
        if path.suffix == ".py":
            new = mover.rewrite_imports(path, new)
        new = mover.rewrite_text(new)
        if new != text:
            changed.append(path)
            if not args.check:
                path.write_text(new, encoding="utf-8")
    for path in changed:
        print(("would change " if args.check else "changed ") + str(path))
    python = [str(p) for p in changed if p.suffix == ".py"]
    if python and not args.check and not args.no_ruff:
        local = Path(args.root) / ".venv" / "bin" / "ruff"
        ruff = str(local) if local.exists() else shutil.which("ruff")
        if ruff:
            subprocess.run([ruff, "check", "--fix", "--select", "I", "--quiet", *python], check=False)
            subprocess.run([ruff, "format", "--quiet", *python], check=False)
    return 1 if args.check and changed else 0


if __name__ == "__main__":
    sys.exit(main())
