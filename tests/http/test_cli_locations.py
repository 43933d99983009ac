"""CLI validation errors name the option to fix, not an HTTP location."""

from __future__ import annotations

from quantdesk.cli_support import option_name


def test_option_names() -> None:
    assert option_name(["body", "stop_loss_pct"]) == "--stop-loss-pct"
    assert option_name(["cash"]) == "--cash"
    assert option_name(["body", "params", "fast"]) == "--param fast"
    assert option_name(["sizing", "fraction"], aliases={"sizing": "--fraction"}) == "--fraction"
    assert option_name(["body"]) == "arguments"
