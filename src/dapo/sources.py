"""The source files a stage runs: its CLI module and every `dapo` module it imports, transitively.

The workflow lists them as each rule's code inputs, so editing any module a stage imports marks
that rule's outputs out of date in Snakemake (mtime) and in DVC (hash). A hand-written list goes
stale as soon as a stage imports something new; the import graph does not. Imports are read
statically (every `import`/`from` statement, also those inside functions), so a module imported
lazily counts as well.
"""

from __future__ import annotations

import ast
from functools import cache
from pathlib import Path

PACKAGE = "dapo"


def _module_file(src: Path, module: str) -> Path | None:
    """src/dapo/a/b.py or src/dapo/a/b/__init__.py for 'dapo.a.b', or None if not in the package."""
    parts = module.split(".")
    if parts[0] != PACKAGE:
        return None
    base = src.joinpath(*parts)
    for path in (base.with_suffix(".py"), base / "__init__.py"):
        if path.is_file():
            return path
    return None


def _imports(src: Path, module: str, path: Path) -> set[str]:
    """Dotted names of the `dapo` modules that `module` (at `path`) imports."""
    package = module if path.name == "__init__.py" else module.rsplit(".", 1)[0]
    out: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            out.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                anchor = package.split(".")[:len(package.split(".")) - node.level + 1]
                base = ".".join(anchor + ([node.module] if node.module else []))
            else:
                base = node.module or ""
            out.add(base)
            # `from . import _cli` names a module; `from .io import read_jsonl` names an attribute
            out.update(f"{base}.{alias.name}" for alias in node.names
                       if _module_file(src, f"{base}.{alias.name}") is not None)
    parents = {".".join(m.split(".")[:i]) for m in out for i in range(1, m.count(".") + 1)}
    return {m for m in out | parents if _module_file(src, m) is not None}


@cache
def module_sources(src: str, module: str) -> tuple[str, ...]:
    """Files of `module` and of every `dapo` module it imports, transitively, sorted; paths are
    relative to the parent of `src` (the repository root when src is '<root>/src')."""
    root = Path(src)
    seen: dict[str, Path] = {}
    todo = [module]
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        path = _module_file(root, name)
        if path is None:
            raise ValueError(f"{name!r} is not a module under {root}")
        seen[name] = path
        todo.extend(_imports(root, name, path) - set(seen))
    return tuple(sorted(str(p.relative_to(root.parent)) for p in seen.values()))


def stage_sources(src: str | Path, stage: str) -> list[str]:
    """The code inputs of the workflow rule that runs `python -m dapo.stages.<stage>`."""
    return list(module_sources(str(src), f"{PACKAGE}.stages.{stage}"))
