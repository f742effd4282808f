"""Check the size rules: no module over 400 lines, no function over 60 (migrations aside).

A long module or function is where responsibilities pile up unseen; the rule is
checked on every `make test` and `make lint` so that it stays true.  Prints one
line per offender and exits 1 when there is any.

Usage: `python scripts/check_sizes.py [ROOT]` (default: the checkout this script is in).
"""

from __future__ import annotations

import ast
import sys
from collections.abc import Iterator
from pathlib import Path

MAX_MODULE_LINES = 400
MAX_FUNCTION_LINES = 60
SKIPPED = frozenset({".venv", ".wangge", ".git", "migrations", "node_modules", "build", "dist"})
"""Folders not checked: tools' and data folders, and migrations (generated, reviewed as written)."""


def python_files(root: Path) -> Iterator[Path]:
    """The Python files under `root`, outside the skipped folders, in a stable order."""
    for path in sorted(root.rglob("*.py")):
        parts = path.relative_to(root).parts
        if not any(part in SKIPPED or part.startswith(".") for part in parts[:-1]):
            yield path


def function_sizes(tree: ast.AST) -> Iterator[tuple[str, int, int]]:
    """(qualified name, first line, line count) of every function, nested ones included.

    A function's lines run from its `def` to its last statement (decorators apart),
    so a nested function counts within its parent too.
    """
    stack: list[tuple[ast.AST, str]] = [(tree, "")]
    while stack:
        node, prefix = stack.pop()
        for child in ast.iter_child_nodes(node):
            name = prefix
            if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                name = f"{prefix}{child.name}."
            if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef):
                end = child.end_lineno or child.lineno
                yield name[:-1], child.lineno, end - child.lineno + 1
            stack.append((child, name))


def offenders(root: Path) -> list[str]:
    """One line per module or function over its limit, as `path:line: what`."""
    found: list[str] = []
    for path in python_files(root):
        text = path.read_text(encoding="utf-8")
        shown = path.relative_to(root)
        lines = len(text.splitlines())
        if lines > MAX_MODULE_LINES:
            found.append(f"{shown}:1: module has {lines} lines (max {MAX_MODULE_LINES})")
        sizes = function_sizes(ast.parse(text, filename=str(path)))
        for name, line, count in sorted(sizes, key=lambda s: s[1]):
            if count > MAX_FUNCTION_LINES:
                found.append(
                    f"{shown}:{line}: function {name} has {count} lines (max {MAX_FUNCTION_LINES})"
                )
    return found


def main(argv: list[str]) -> int:
    """Print the offenders; 1 if there are any, else 0."""
    root = Path(argv[1]) if len(argv) > 1 else Path(__file__).resolve().parent.parent
    found = offenders(root.resolve())
    for line in found:
        print(line)
    if found:
        print(
            f"{len(found)} over the size rules (modules <= {MAX_MODULE_LINES} lines, "
            f"functions <= {MAX_FUNCTION_LINES}): split them by responsibility",
            file=sys.stderr,
        )
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
