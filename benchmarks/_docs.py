"""docs/benchmarks.md: every benchmark owns the section between its two markers; the
helpers its section and printed report share (tables, revision, the machine line)."""

from __future__ import annotations

import os
import platform
import subprocess
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

DOCS_PATH = Path(__file__).resolve().parents[1] / "docs" / "benchmarks.md"
DOCS_HEADER = (
    "# Benchmarks\n\nSpeed against reference implementations, written by `make bench`. Each "
    "benchmark owns the section between its `<!-- bench:NAME:start -->` and "
    "`<!-- bench:NAME:end -->` markers.\n"
)


def write_section(section: str, start: str, end: str, path: Path = DOCS_PATH) -> None:
    """Replace the text from `start` to `end` (both included in `section`), or append it."""
    text = path.read_text() if path.exists() else DOCS_HEADER
    if start in text and end in text:
        before, _, rest = text.partition(start)
        _, _, after = rest.partition(end)
        text = before + section + after
    else:
        text = text.rstrip("\n") + "\n\n" + section + "\n"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def revision() -> str:
    """The commit measured, marked when src/ differs from it."""
    root = DOCS_PATH.parents[1]

    def git(*args: str) -> str:
        return subprocess.run(
            ["git", *args], cwd=root, capture_output=True, text=True, check=True
        ).stdout.strip()

    try:
        commit = git("rev-parse", "--short", "HEAD")
        dirty = git("status", "--porcelain", "--", "src")
    except (OSError, subprocess.CalledProcessError):
        return "unknown revision"
    return f"commit {commit}" + (" with uncommitted changes in src/" if dirty else "")


def render_section(
    start: str,
    end: str,
    *,
    title: str,
    command: str,
    info: str,
    table: Sequence[str],
    notes: Sequence[str],
    method: str,
    notes_intro: str = "",
) -> str:
    """A benchmark's section between its markers: `## title`, the command run when on which
    revision, the machine, the table, the notes as a list (after an introducing paragraph if
    given), then the method."""
    when = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    intro = [notes_intro, ""] if notes_intro else []
    return "\n".join(
        [
            start,
            f"## {title}",
            "",
            f"{command}, run {when} on {revision()}.",
            "",
            f"Machine: {info}.",
            "",
            *table,
            "",
            *intro,
            *(f"- {line}" for line in notes),
            "",
            method,
            end,
        ]
    )


def cpu_name() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as info:
            return next(
                (line.split(":", 1)[1].strip() for line in info if line.startswith("model name")),
                cpu,
            )
    except OSError:
        return cpu


def platform_parts() -> list[str]:
    """The start of every benchmark's "Machine:" line: CPUs, operating system, Python."""
    return [
        f"{os.cpu_count()} CPUs ({cpu_name()})",
        f"{platform.system()} {platform.release()}",
        f"Python {platform.python_version()}",
    ]


def package_version(name: str) -> str:
    try:
        return version(name)
    except PackageNotFoundError:
        return "not installed"


def markdown_table(header: Sequence[str], body: Sequence[Sequence[str]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines.extend("| " + " | ".join(row) + " |" for row in body)
    return lines


def text_table(header: Sequence[str], body: Sequence[Sequence[str]]) -> list[str]:
    rows = [tuple(header), *(tuple(row) for row in body)]
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) for row in rows]
    return [lines[0], "  ".join("-" * w for w in widths), *lines[1:]]


def print_table(header: Sequence[str], body: Sequence[Sequence[str]]) -> None:
    print("\n".join(text_table(header, body)))


def report(
    rows: Sequence[tuple[str, ...]],
    notes: Sequence[str],
    *,
    header: Sequence[str],
    info: str,
    begun: float,
    section: Callable[[Sequence[tuple[str, ...]], Sequence[str], str], str],
    start: str,
    end: str,
    write: bool,
) -> list[str]:
    """The end every results-table benchmark shares: print the table, its notes, the machine
    line and the time taken; write the doc section unless `write` is false. Returns the
    names of the measurements that failed their bar."""
    print("", *text_table(header, rows), "", *(f"- {n}" for n in notes), sep="\n")
    print(f"\n{info}\nTotal {time.perf_counter() - begun:.0f} s")
    failed = [row[0] for row in rows if row[-1] == "FAIL"]
    if write:
        write_section(section(rows, notes, info), start, end)
        print(f"Wrote {DOCS_PATH}")
    return failed


def load_average() -> str:
    return ", ".join(f"{value:.2f}" for value in os.getloadavg())
