"""`quantdesk ledger verify` (registered in quantdesk/cli.py): every invariant of the paper
desk's double-entry ledger (quantdesk.portfolio.verify); exit 0 when clean, 1 listing the
violations."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console

from quantdesk.cli_support import checked_settings, with_session
from quantdesk.portfolio.money import money_str
from quantdesk.portfolio.verify import LedgerReport, verify_ledger

console = Console(stderr=True)
ledger_app = typer.Typer(help="The paper desk's double-entry ledger.", no_args_is_help=True)


def _print_text(report: LedgerReport, show_equity: bool) -> None:
    console.print(
        f"{report.entries} entries, {report.legs} legs, {report.accounts} accounts; "
        f"{len(report.checks)} checks: {', '.join(report.checks)}"
    )
    if show_equity:
        for row in report.equity:
            console.print(
                f"{row.account_id} equity {money_str(row.equity)} {row.currency} "
                f"(cash {money_str(row.cash)}, held {money_str(row.held)}, "
                f"positions {money_str(row.positions_value)})"
            )
    for violation in report.violations:
        where = f"account {violation.account_id}" if violation.account_id else "ledger"
        console.print(f"[red]{violation.check}[/red] {where}: {violation.detail}")
    if report.ok:
        console.print("[green]ledger clean[/green]")
    else:
        listed = len(report.violations)
        more = f" ({listed} listed)" if listed < report.violation_count else ""
        console.print(f"[red]{report.violation_count} violation(s){more}[/red]")


@ledger_app.command("verify")
def verify(
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the whole report as JSON on stdout")
    ] = False,
    equity: Annotated[bool, typer.Option(help="List every account's equity")] = False,
) -> None:
    """Check every ledger invariant; exit 1 listing the violations."""
    settings = checked_settings(console)
    report = with_session(settings, verify_ledger)
    if as_json:
        typer.echo(report.model_dump_json(indent=2))
    else:
        _print_text(report, equity)
    if not report.ok:
        raise typer.Exit(1)
