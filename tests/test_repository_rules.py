"""Rules the repository keeps, checked on every run so they stay kept."""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SKIPPED_DIRS = {".git", ".venv", "var", "node_modules", ".mypy_cache", ".ruff_cache"}
CLOCKS = {"perf_counter", "perf_counter_ns", "monotonic", "monotonic_ns", "process_time"}


def project_files(*suffixes: str) -> list[Path]:
    found = []
    for path in ROOT.rglob("*"):
        parts = set(path.relative_to(ROOT).parts)
        if parts & SKIPPED_DIRS or any(part.endswith(".egg-info") for part in parts):
            continue
        if path.is_file() and path.suffix in suffixes:
            found.append(path)
    return found


def test_the_repository_stands_alone() -> None:
    """README, docs and code never point outside the repository."""
    outside = re.compile(r"\.\./shared|\b(DESIGN|CONVENTIONS)\.md\b|product-notes")
    offenders = [
        f"{path.relative_to(ROOT)}:{number}"
        for path in project_files(".py", ".md", ".toml", ".yml", ".yaml", ".html", ".js")
        if path != Path(__file__).resolve()
        for number, line in enumerate(path.read_text(errors="replace").splitlines(), 1)
        if outside.search(line)
    ]
    assert not offenders


def _test_modules() -> list[Path]:
    return [path for path in (ROOT / "tests").rglob("*.py") if "support" not in path.parts]


def test_tests_share_helpers_only_through_tests_support() -> None:
    offenders = []
    for path in _test_modules():
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module:
                module = node.module
            elif isinstance(node, ast.Import):
                module = node.names[0].name
            else:
                continue
            if module.startswith("tests") and not module.startswith("tests.support"):
                offenders.append(f"{path.relative_to(ROOT)}:{node.lineno} imports {module}")
    assert not offenders


def _reads_a_clock(node: ast.AST) -> bool:
    for call in ast.walk(node):
        if isinstance(call, ast.Call):
            name = getattr(call.func, "attr", None) or getattr(call.func, "id", None)
            if name in CLOCKS:
                return True
    return False


def _elapsed(node: ast.AST) -> bool:
    """`clock() - started` style arithmetic: a duration measured by the wall clock."""
    return any(
        isinstance(sub, ast.BinOp) and isinstance(sub.op, ast.Sub) and _reads_a_clock(sub)
        for sub in ast.walk(node)
    )


def test_no_test_asserts_on_wall_clock_time() -> None:
    """Speed belongs to `make bench`: a test never asserts how long something took."""
    offenders = []
    for path in _test_modules():
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Assert) and (_reads_a_clock(node.test) or _elapsed(node.test)):
                offenders.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert not offenders
