"""The dashboard's vendored libraries in tests: there under CI (`make test` fetches them with
`python -m quantdesk.web.vendor`), maybe not on a developer's machine."""

from __future__ import annotations

import pytest

from quantdesk.web.routes import STATIC_DIR
from quantdesk.web.vendor import load_lock
from tests.support.servers import server_required

VENDOR = STATIC_DIR / "vendor"
INDEX = STATIC_DIR / "index.html"


def vendor_fetched() -> bool:
    lock = load_lock()
    return all((VENDOR / f.target).is_file() for p in lock.packages for f in p.files)


def require_vendor() -> None:
    """Skip when the vendor files are not fetched; fail instead on CI."""
    if not vendor_fetched():
        if server_required():
            pytest.fail("vendor files missing on CI: make test runs python -m quantdesk.web.vendor")
        pytest.skip("vendor files not fetched (python -m quantdesk.web.vendor)")
