"""The dashboard: a browser app served by the API itself at `/app` (quantdesk.web.routes).

* `static/` holds the app: `index.html`, the stylesheet and the project's own JavaScript, plain
  ES modules loaded by the browser as they are (no build step, no Node at run time).
* `static/vendor/` holds the third-party browser libraries (lightweight-charts and
  preact + htm). They are dependencies, not code of this repository: `vendor.lock.json` pins
  each npm tarball with its integrity hash and the sha256 of every file taken from it, and
  `python -m quantdesk.web.vendor` (run by `make run` and `make test`) fetches them into that
  folder, which git ignores.
"""
