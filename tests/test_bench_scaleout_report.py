"""benchmarks.scaleout.report: the mixed-load section states its fixed rate and sets each
endpoint class's p99 (and the overall row's) against the 250 ms bar."""

from __future__ import annotations

from benchmarks.scaleout.report import P99_BAR_MS, Row, render


def test_rows_are_set_against_the_p99_bar_and_the_rate_is_stated() -> None:
    rows = [
        Row("quotes", 600, 0, 30.0, 5, P99_BAR_MS),
        Row("orders", 300, 0, 15.0, 50, P99_BAR_MS + 10),
        Row("all", 900, 0, 45.0, 9, 120),
    ]
    text = render(rows, [], [], seconds=20, users=20, rate=60, replicas=2, workers=1)
    lines = {line.split(" |")[0].lstrip("| "): line for line in text.splitlines()}
    assert lines["quotes"].endswith("| PASS |")
    assert lines["orders"].endswith("| FAIL |")
    assert lines["all"].endswith("| PASS |")
    assert "20 users starting 60 tasks/s in all (constant_throughput 3/s each)" in text
    assert f"p99 <= {P99_BAR_MS:g} ms" in text
