"""``forecast app``: a page in the browser to change any prior and watch the forecast move.

A local server (standard library ``http.server``, 127.0.0.1 only) serves one static page
shipped with the package (no CDN: it works offline) and JSON/PNG endpoints that call the
engine's own API, so the page's numbers are ``forecast run``'s at equal settings. The
page's state lives in its URL (:mod:`outputs.app.state`).
"""

from outputs.app.application import App
from outputs.app.server import make_server, serve
from outputs.app.state import AppState, from_query, to_query

__all__ = ["App", "AppState", "from_query", "make_server", "serve", "to_query"]
