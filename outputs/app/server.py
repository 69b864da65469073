"""The app's server: one static page and JSON/PNG endpoints that call the engine's own API.

This module is the HTTP side (the request handler, the pool of worker threads, the watch
that cancels a computation whose page has gone); the engine behind it is
:class:`outputs.app.application.App`, and the page's words are :mod:`outputs.app.payloads`.

Standard library only (``http.server``): the page is ``static/index.html`` with its script
and style, shipped with the package, so it works offline. Every number comes from the
functions the CLI calls: ``forecast run``'s ``run_settings`` for the worlds, the
result's own summaries, ``outputs.plots`` for the charts, ``outputs.tables`` for the
tables, ``forecast.sensitivity.local.tornado`` for "what matters most".

Endpoints (each takes the page's query string, :mod:`outputs.app.state`):

- ``GET /api/forecast``: the checked state, the priors by block, the headline, the per-year
  table and what the run takes, as JSON. Bad input gives ``errors`` (one line each, the
  CLI's message), never an error status.
- ``GET /api/plot/<kind>.png``: ``fan``, ``timeline``, ``constraints``, ``resources``.
- ``GET /api/tornado``: each prior pinned at its 5th and 95th percentile, for the headline.
- ``GET /download/priors.toml``, ``/download/summary.csv``, ``/download/report.zip``.

The engine runs one request at a time (a lock): two cores are better spent on one update
than shared by two. Results are kept for the last few states, so the charts, the tornado
and the downloads of one state draw its worlds once; a kept result is answered without
waiting for the engine. A computation whose page has gone (the connection closed) is
cancelled, so it does not hold the engine for the next one.

Under load: a listen backlog of :data:`BACKLOG`, a pool of :data:`WORKERS` threads and at
most :data:`WAITING` connections waiting for them; beyond that, or when the engine stays
busy for :data:`ENGINE_WAIT_S`, the answer is 503 "busy" (never a reset connection).

Only this machine's pages may talk to it: the ``Host`` must be ``127.0.0.1:PORT`` or
``localhost:PORT`` (a page of another site that rebinds its name to 127.0.0.1 sends its own
name), and a request from another origin (``Origin``, ``Sec-Fetch-Site``) is refused.
"""


from __future__ import annotations

import contextlib
import ctypes
import json
import os
import queue
import select
import socket
import sys
import threading
import traceback
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, HTTPServer
from importlib import resources
from pathlib import Path
from urllib.parse import urlsplit

from forecast.cancel import checked_by
from outputs.app.application import PLOT_KINDS, QUICK_SAMPLES, TORNADO_SAMPLES, App, Busy
from outputs.app.payloads import page_error
from priors import InputError

__all__ = ["PLOT_KINDS", "QUICK_SAMPLES", "TORNADO_SAMPLES", "App", "AppServer", "make_server", "serve"]

#: Listen backlog: connections the system holds before the server accepts them.
BACKLOG = 512
#: Threads that answer requests, and connections that may wait for one (more: 503).
WORKERS = 8
WAITING = 512
#: Seconds a connection may take to send its request or read the answer.
SOCKET_TIMEOUT_S = 60.0
#: Seconds between checks that the page waiting for a computation is still there.
WATCH_EVERY_S = 0.2


class ClientGone(BaseException):
    """Raised in a request's thread when its connection closed while it computed."""


STATIC = resources.files("outputs.app") / "static"
_CONTENT_TYPES = {".html": "text/html; charset=utf-8", ".js": "text/javascript; charset=utf-8",
                  ".css": "text/css; charset=utf-8", ".svg": "image/svg+xml", ".png": "image/png"}


# --------------------------------------------------------------------------- HTTP


class _Handler(BaseHTTPRequestHandler):
    server_version = "forecast-app"
    app: App  # set on the subclass made by make_server

    timeout = SOCKET_TIMEOUT_S  # a connection that sends nothing does not hold a thread

    def log_message(self, format, *args):
        pass

    def _refusal(self) -> str | None:
        """Why a request from another site is refused (None: it is this machine's page).

        DNS rebinding: a page of ``evil.example`` whose name then resolves to 127.0.0.1
        reaches this server with ``Host: evil.example:PORT``; a page of any other origin
        says so in ``Origin`` or ``Sec-Fetch-Site``."""
        port = self.server.server_address[1]
        own = {f"127.0.0.1:{port}", f"localhost:{port}"}
        host = (self.headers.get("Host") or "").strip().lower()
        if host not in own:
            return (f"refused: this page answers only at http://127.0.0.1:{port}/ "
                    f"(the request was for host {host!r})")
        origin = self.headers.get("Origin")
        if origin is not None and origin.strip().lower() not in {f"http://{h}" for h in own}:
            return f"refused: a request from another origin ({origin!r})"
        if (self.headers.get("Sec-Fetch-Site") or "same-origin").strip().lower() not in ("same-origin", "none"):
            return "refused: a request from another site"
        return None

    def do_POST(self):
        self._json({"ok": False, "errors": [{"field": "url", "message": "only GET is served"}]},
                   status=HTTPStatus.METHOD_NOT_ALLOWED)

    do_PUT = do_DELETE = do_PATCH = do_POST

    def do_GET(self):
        url = urlsplit(self.path)
        path, query = url.path, url.query
        refusal = self._refusal()
        if refusal is not None:
            self._json({"ok": False, "errors": [{"field": "url", "message": refusal}]},
                       status=HTTPStatus.FORBIDDEN)
            return
        try:
            with _cancelled_when_gone(self.connection):
                self._route(path, query)
        except ClientGone:
            pass  # the page closed the connection: nobody to answer
        except (BrokenPipeError, ConnectionResetError, socket.timeout):
            pass  # the page moved on (a newer update) before the answer came

    def _route(self, path: str, query: str) -> None:
        try:
            if path in ("/", "/index.html"):
                self._static("index.html")
            elif path == "/favicon.ico":
                self._send(b"", "image/x-icon", status=HTTPStatus.NO_CONTENT)
            elif path.startswith("/static/"):
                self._static(path.removeprefix("/static/"))
            elif path == "/api/forecast":
                flags = {p for p in query.split("&") if p in ("fallback=1", "quick=1")}
                query = "&".join(p for p in query.split("&") if p not in flags)
                self._json(self.app.forecast(query, fallback="fallback=1" in flags, quick="quick=1" in flags))
            elif path.startswith("/api/plot/") and path.endswith(".png"):
                kind = path.removeprefix("/api/plot/").removesuffix(".png")
                self._send(self.app.plot_png(kind, query), "image/png")
            elif path == "/api/details":
                self._json(self.app.details(query))
            elif path == "/api/tornado":
                self._json(self.app.tornado(query))
            elif path.startswith("/download/"):
                body, kind, filename = self.app.download(path.removeprefix("/download/"), query)
                self._send(body, kind, headers={"Content-Disposition": f'attachment; filename="{filename}"'})
            else:
                self._json({"ok": False, "errors": [{"field": "url", "message": f"no such page: {path}"}]},
                           status=HTTPStatus.NOT_FOUND)
        except InputError as err:
            self._json({"ok": False, "errors": [page_error(str(err) or type(err).__name__)]},
                       status=HTTPStatus.BAD_REQUEST)
        except Busy as err:
            self._json({"ok": False, "errors": [{"field": "server", "message": str(err)}]},
                       status=HTTPStatus.SERVICE_UNAVAILABLE, headers={"Retry-After": "2"})
        except (BrokenPipeError, ConnectionResetError, socket.timeout):
            raise
        except Exception as err:  # noqa: BLE001 -- a bug: say so on the page, trace in the terminal
            traceback.print_exc(file=sys.stderr)
            try:
                self._json({"ok": False, "errors": [{"field": "server", "message": f"internal error: {err!r}"}]},
                           status=HTTPStatus.INTERNAL_SERVER_ERROR)
            except OSError:
                pass

    def _static(self, name: str) -> None:
        names = {entry.name for entry in STATIC.iterdir()}
        if name not in names:
            self._json({"ok": False, "errors": [{"field": "url", "message": f"no such file: {name}"}]},
                       status=HTTPStatus.NOT_FOUND)
            return
        suffix = Path(name).suffix
        self._send((STATIC / name).read_bytes(), _CONTENT_TYPES.get(suffix, "application/octet-stream"))

    def _json(self, payload: dict, status: HTTPStatus = HTTPStatus.OK, headers: dict | None = None) -> None:
        self._send(json.dumps(payload, allow_nan=False).encode(), "application/json", status=status,
                   headers=headers)

    def _send(self, body: bytes, content_type: str, *, status: HTTPStatus = HTTPStatus.OK,
              headers: dict | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(body)


def _busy_answer() -> bytes:
    body = json.dumps({"ok": False, "errors": [{"field": "server", "message":
                       "busy: too many requests at once; try again in a moment"}]}).encode()
    return (b"HTTP/1.0 503 Service Unavailable\r\nContent-Type: application/json\r\n"
            b"Retry-After: 2\r\nCache-Control: no-store\r\nConnection: close\r\n"
            + f"Content-Length: {len(body)}\r\n\r\n".encode() + body)


class AppServer(HTTPServer):
    """An HTTP server with a listen backlog of :data:`BACKLOG` and a pool of
    :data:`WORKERS` threads; a connection that finds :data:`WAITING` others waiting is
    answered 503 at once."""

    request_queue_size = BACKLOG
    allow_reuse_address = True

    def __init__(self, address, handler, *, workers: int = WORKERS, waiting: int = WAITING):
        self._waiting: queue.Queue = queue.Queue(maxsize=waiting)
        self._workers = workers
        self._threads: list[threading.Thread] = []
        self.in_flight = 0
        self._count_lock = threading.Lock()
        super().__init__(address, handler)

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host}:{port}/"

    def server_activate(self) -> None:
        super().server_activate()
        for n in range(self._workers):
            thread = threading.Thread(target=self._work, name=f"forecast-app-{n}", daemon=True)
            thread.start()
            self._threads.append(thread)

    def process_request(self, request, client_address) -> None:
        try:
            self._waiting.put_nowait((request, client_address))
        except queue.Full:
            with contextlib.suppress(OSError):
                request.settimeout(1.0)
                request.sendall(_busy_answer())
            self.shutdown_request(request)

    def _work(self) -> None:
        while True:
            request, client_address = self._waiting.get()
            with self._count_lock:
                self.in_flight += 1
            try:
                self.finish_request(request, client_address)
            except Exception:  # noqa: BLE001 -- a broken connection: nothing to answer
                pass
            finally:
                self.shutdown_request(request)
                with self._count_lock:
                    self.in_flight -= 1

    def handle_error(self, request, client_address) -> None:
        pass  # a client that went away is not an error of the server


# -- cancelling a computation whose page has gone ------------------------------------------

#: ``PyThreadState_SetAsyncExc(thread, exception)``, and the same with NULL (clears it).
_raise_in = ctypes.PYFUNCTYPE(ctypes.c_int, ctypes.c_ulong, ctypes.py_object)(
    ("PyThreadState_SetAsyncExc", ctypes.pythonapi))
_clear_in = ctypes.PYFUNCTYPE(ctypes.c_int, ctypes.c_ulong, ctypes.c_void_p)(
    ("PyThreadState_SetAsyncExc", ctypes.pythonapi))


class _Watch:
    """One request's connection, watched while its thread computes."""

    def __init__(self, connection, thread_id: int):
        self.connection, self.thread_id = connection, thread_id
        self.lock = threading.Lock()
        self.active, self.fired = True, False

    def stop_if_fired(self) -> None:
        """Raise :class:`ClientGone` here if the watch has fired: called by the engine
        between chunks, in the watched thread. The exception sent from outside may have
        gone off where it was swallowed (a garbage-collection callback); if it is still
        pending it is withdrawn, so only one goes off."""
        with self.lock:
            if not self.fired:
                return
            _clear_in(self.thread_id, None)
        raise ClientGone


_watches: set[_Watch] = set()
_watches_lock = threading.Lock()
_watcher: threading.Thread | None = None


def _closed(connection) -> bool:
    """Whether the other end closed the connection (readable, and nothing to read)."""
    try:
        readable, _, _ = select.select([connection], [], [], 0)
        if not readable:
            return False
        return connection.recv(1, socket.MSG_PEEK | socket.MSG_DONTWAIT) == b""
    except BlockingIOError:
        return False
    except (OSError, ValueError):
        return True


def _watch_loop() -> None:
    while True:
        with _watches_lock:
            watches = list(_watches)
        for watch in watches:
            if _closed(watch.connection):
                with watch.lock:
                    if watch.active and not watch.fired:
                        watch.fired = True
                        _raise_in(watch.thread_id, ClientGone)
        threading.Event().wait(WATCH_EVERY_S)


@contextlib.contextmanager
def _cancelled_when_gone(connection):
    """While this block runs, a closed connection raises :class:`ClientGone` in this
    thread, so a page that moved on does not keep the engine computing for nobody: sent
    from the watch's thread (it goes off at this thread's next Python instruction: in a
    chart, say), and raised by the engine itself before its next chunk of worlds
    (:mod:`forecast.cancel`), in case the one sent went off where it was swallowed."""
    global _watcher
    watch = _Watch(connection, threading.get_ident())
    with _watches_lock:
        _watches.add(watch)
        if _watcher is None or not _watcher.is_alive():
            _watcher = threading.Thread(target=_watch_loop, name="forecast-app-watch", daemon=True)
            _watcher.start()
    try:
        with checked_by(watch.stop_if_fired):  # the engine asks between chunks
            yield
    finally:
        with _watches_lock:
            _watches.discard(watch)
        with watch.lock:
            watch.active = False
            if watch.fired:  # sent but maybe not raised yet: it must not go off later
                _clear_in(watch.thread_id, None)


def make_server(app: App, port: int = 8050) -> AppServer:
    """A server for ``app`` on 127.0.0.1 (only: the page is for this machine); port 0 picks
    a free port (``server.url`` says which)."""
    handler = type("Handler", (_Handler,), {"app": app})
    return AppServer(("127.0.0.1", port), handler)


def serve(app: App, *, port: int = 8050, open_browser: bool = True, warm: bool = True) -> int:
    """Serve the page until Ctrl-C or SIGTERM; print its URL and open it in the browser.
    Ends the process (exit code 0) when it stops."""
    from outputs.stopping import Terminated

    try:
        server = make_server(app, port)
    except OverflowError:
        raise InputError(f"--port: {port} is not a port; use 0 to 65535") from None
    except OSError as err:
        raise InputError(f"--port: cannot listen on 127.0.0.1:{port} ({err.strerror or err})") from None
    warming = threading.Thread(target=app.warm_up, daemon=True)
    try:
        print(f"forecast app: serving {server.url} (Ctrl-C to stop)", flush=True)
        if warm:
            warming.start()
        if open_browser:
            import webbrowser

            threading.Thread(target=webbrowser.open, args=(server.url,), daemon=True).start()
        server.serve_forever()
    except (KeyboardInterrupt, Terminated):
        print("\nforecast app: stopped", flush=True)
    finally:
        server.server_close()
    # XLA may be computing in another thread (a forecast, the warm-up; a signal can arrive
    # before that thread says it has started): tearing the interpreter down under it crashes
    # (SIGSEGV, or abort: "exception not rethrown"), so leave at once, the output flushed
    # and the port closed
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)
