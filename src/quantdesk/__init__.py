"""quantdesk: a self-hosted market-intelligence API server."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("quantdesk")
except PackageNotFoundError:  # running from a source tree without an install
    __version__ = "0.0.0"
