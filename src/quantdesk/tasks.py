"""The job catalogue: every domain's background work, registered by importing its `tasks`
module. The job runner (`quantdesk.jobs`) knows no domain; `create_app` and the
commands that look jobs up (worker, beat, `jobs ...`) call `load_tasks()` first.
"""

from __future__ import annotations


def load_tasks() -> None:
    """Register every domain's tasks (idempotent). A domain with jobs adds its module here.

    Imported on call, not at module import: `quantdesk db upgrade` needs no domain code."""
    import quantdesk.analytics.market.tasks
    import quantdesk.backtest.tasks
    import quantdesk.exports.tasks
    import quantdesk.jobs.tasks
    import quantdesk.marketdata.fx.tasks
    import quantdesk.marketdata.news.tasks
    import quantdesk.marketdata.reference.tasks
    import quantdesk.marketdata.tasks
    import quantdesk.research.tasks
    import quantdesk.signals.tasks
    import quantdesk.webhooks.tasks  # noqa: F401
