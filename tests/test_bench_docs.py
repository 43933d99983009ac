"""The shared writer of docs/benchmarks.md sections (used by every `make bench` script)."""

from __future__ import annotations

from pathlib import Path

from benchmarks._docs import write_section

START, END = "<!-- bench:x:start -->", "<!-- bench:x:end -->"


def test_section_is_appended_then_replaced_in_place(tmp_path: Path) -> None:
    path = tmp_path / "benchmarks.md"
    path.write_text("# Benchmarks\n\n<!-- bench:y:start -->\nother\n<!-- bench:y:end -->\n")
    write_section(f"{START}\nfirst\n{END}", START, END, path)
    write_section(f"{START}\nsecond\n{END}", START, END, path)
    text = path.read_text()
    assert "other" in text and "second" in text and "first" not in text
    assert text.count(START) == 1 and text.index("other") < text.index("second")


def test_missing_file_gets_the_header(tmp_path: Path) -> None:
    path = tmp_path / "docs" / "benchmarks.md"
    write_section(f"{START}\nbody\n{END}", START, END, path)
    assert path.read_text().startswith("# Benchmarks")


def test_tables_render_markdown_and_aligned_text() -> None:
    from benchmarks._docs import markdown_table, text_table

    header, body = ("name", "ratio"), [("sma", "1.01x"), ("bbands", "0.96x")]
    assert markdown_table(header, body) == [
        "| name | ratio |",
        "|---|---|",
        "| sma | 1.01x |",
        "| bbands | 0.96x |",
    ]
    assert text_table(header, body) == [
        "name    ratio",
        "------  -----",
        "sma     1.01x",
        "bbands  0.96x",
    ]
