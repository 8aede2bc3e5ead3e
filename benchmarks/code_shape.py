"""The shape of the package's code: modules, functions and signatures too large to hold, and untyped dicts.

Issue 25 asks for rooms of a size one can hold: no module over 700 lines, no function over 80, no public function
with more than 10 parameters (``self``/``cls`` not counted; a settings object instead), and fewer than 30
``dict[str, Any]`` in the package. This prints each figure and every offender; ``tests/test_architecture.py``
asserts the same limits with :func:`measure`.

    .venv/bin/python benchmarks/code_shape.py [src/custml]
"""

from __future__ import annotations

import argparse
import ast
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

MAX_MODULE_LINES = 700
MAX_FUNCTION_LINES = 80
MAX_PUBLIC_PARAMETERS = 10
MAX_ANY_DICTS = 30
ANY_DICT = "dict[str, Any]"


@dataclass
class CodeShape:
    """What :func:`measure` found: counts and the offenders of each limit (``(size, "file:line name")``)."""

    modules: int = 0
    functions: int = 0
    lines: int = 0
    long_modules: list[tuple[int, str]] = field(default_factory=list)
    long_functions: list[tuple[int, str]] = field(default_factory=list)
    wide_functions: list[tuple[int, str]] = field(default_factory=list)
    any_dicts: list[tuple[int, str]] = field(default_factory=list)

    @property
    def any_dict_count(self) -> int:
        return sum(n for n, _ in self.any_dicts)


def _parameters(node: ast.FunctionDef | ast.AsyncFunctionDef) -> int:
    args = node.args
    names = [a.arg for a in (*args.posonlyargs, *args.args, *args.kwonlyargs)]
    return len(names) - (1 if names and names[0] in ("self", "cls") else 0)


def _is_public(node: ast.FunctionDef | ast.AsyncFunctionDef, parents: list[str]) -> bool:
    return not node.name.startswith("_") and not any(p.startswith("_") for p in parents)


def _walk(
    tree: ast.AST, parents: list[str]
) -> Iterator[tuple[ast.FunctionDef | ast.AsyncFunctionDef, list[str]]]:
    for child in ast.iter_child_nodes(tree):
        if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)):
            yield child, parents
            yield from _walk(child, [*parents, child.name])
        elif isinstance(child, ast.ClassDef):
            yield from _walk(child, [*parents, child.name])
        else:
            yield from _walk(child, parents)


def measure(root: Path) -> CodeShape:
    """Measure every ``*.py`` file under ``root`` (a package folder)."""
    shape = CodeShape()
    base = root.parent
    for path in sorted(root.rglob("*.py")):
        text = path.read_text(encoding="utf-8")
        name = path.relative_to(base).as_posix()
        n_lines = len(text.splitlines())
        shape.modules += 1
        shape.lines += n_lines
        if n_lines > MAX_MODULE_LINES:
            shape.long_modules.append((n_lines, name))
        if (n_any := text.count(ANY_DICT)) > 0:
            shape.any_dicts.append((n_any, name))
        for node, parents in _walk(ast.parse(text), []):
            shape.functions += 1
            where = f"{name}:{node.lineno} {'.'.join([*parents, node.name])}"
            length = (node.end_lineno or node.lineno) - node.lineno + 1
            if length > MAX_FUNCTION_LINES:
                shape.long_functions.append((length, where))
            if _is_public(node, parents) and (k := _parameters(node)) > MAX_PUBLIC_PARAMETERS:
                shape.wide_functions.append((k, where))
    for offenders in (shape.long_modules, shape.long_functions, shape.wide_functions, shape.any_dicts):
        offenders.sort(reverse=True)
    return shape


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("root", nargs="?", default=str(Path(__file__).resolve().parents[1] / "src" / "custml"))
    shape = measure(Path(ap.parse_args().root))
    print(f"{shape.modules} modules, {shape.lines:,} lines, {shape.functions} functions")
    sections = (
        (f"modules over {MAX_MODULE_LINES} lines", shape.long_modules),
        (f"functions over {MAX_FUNCTION_LINES} lines", shape.long_functions),
        (f"public functions with over {MAX_PUBLIC_PARAMETERS} parameters", shape.wide_functions),
        (
            f"{ANY_DICT} (total {shape.any_dict_count}, limit under {MAX_ANY_DICTS}), by module",
            shape.any_dicts,
        ),
    )
    for title, offenders in sections:
        print(f"{title}: {len(offenders)}")
        for size, where in offenders:
            print(f"  {size:5d}  {where}")


if __name__ == "__main__":
    main()
