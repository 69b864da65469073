"""``forecast app``: the update path through the real HTTP server (the standard library's; no
framework harness to use), with numbers checked against ``forecast run``'s own code path."""

from __future__ import annotations

import io
import json
import threading
import time
import urllib.error
import urllib.request
import zipfile

import pytest

from outputs.app import App, make_server
from outputs.cli import build_parser
from outputs.commands.common import forecast_settings, result_from_settings
from outputs.tables import per_year_table
from priors import load_prior_set

#: Worlds per test forecast: the conftest's small run uses as many (one compile for all).
SAMPLES = 4000
OVERRIDES = ["mfu=beta mean 0.45, 0.35 to 0.55", "power_limit_gw_max=lognormal 2 to 10"]
QUERY = (f"priors=power_wall&set=mfu:beta+mean+0.45,+0.35+to+0.55&set=power_limit_gw_max:lognormal+2+to+10"
         f"&threshold=1e28&year=2028&samples={SAMPLES}")


def cli_result(*argv):
    """The forecast of ``forecast run ARGV``, through the CLI's own parser and runner."""
    return result_from_settings(forecast_settings(build_parser().parse_args(["run", *argv])))


def cli_headline(*argv, threshold: str = "1e28", year: int = 2028) -> str:
    """The page's headline line, computed here from the CLI's result."""
    cell = cli_result(*argv, "--thresholds", f"1e26,1e27,{threshold},1e29,1e30").timeline.sel(
        threshold=float(threshold), year=year)
    p, mcse = float(cell["probability"]), float(cell["mcse"])
    return f"P(≥{threshold} FLOP by {year}) = {100 * p:.1f}% ± {100 * mcse:.1f}%"


def issue_argv():
    return ["--priors", "power_wall", "--samples", str(SAMPLES), *[a for o in OVERRIDES for a in ("--set", o)]]


@pytest.fixture(scope="module")
def server():
    server = make_server(App(), port=0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def get(server, path: str):
    """(status, content type, body) of a GET; error statuses are returned, not raised."""
    try:
        with urllib.request.urlopen(server.url.rstrip("/") + path, timeout=120) as response:
            return response.status, response.headers["Content-Type"], response.read()
    except urllib.error.HTTPError as err:
        return err.code, err.headers["Content-Type"], err.read()


def get_json(server, path: str):
    status, kind, body = get(server, path)
    assert kind == "application/json"
    return status, json.loads(body)


def test_server_binds_localhost_only(server):
    assert server.server_address[0] == "127.0.0.1"


def test_the_page_and_its_files_are_served_from_the_package(server):
    status, kind, body = get(server, "/")
    assert status == 200 and kind.startswith("text/html")
    assert b"/static/app.js" in body and b"http" not in body.replace(b"http-equiv", b"")  # no CDN
    for name, kind_start in (("app.js", "text/javascript"), ("app.css", "text/css")):
        status, kind, body = get(server, f"/static/{name}")
        assert status == 200 and kind.startswith(kind_start) and b"https://" not in body
    assert get(server, "/static/../state.py")[0] == 404


def test_forecast_numbers_equal_the_cli(server):
    status, data = get_json(server, f"/api/forecast?{QUERY}")
    assert status == 200 and data["ok"] and data["errors"] == []
    assert data["headline"]["text"] == cli_headline(*issue_argv())
    assert data["query"] == QUERY.replace("&threshold=1e28&year=2028", "").replace("+", "+")
    assert data["command"].startswith("forecast run --priors power_wall --set")
    groups = [g["title"] for g in data["priors"]["groups"]]
    assert groups == ["Hardware", "Power and funding", "Data", "Latency", "Post-training", "Cost",
                      "Labs, the soft data wall, what gets published"]
    mfu = next(p for g in data["priors"]["groups"] for p in g["priors"] if p["name"] == "mfu")
    assert mfu["changed"] and mfu["spec"] == "beta mean 0.45, 0.35 to 0.55" and mfu["unit"] == "fraction"


def test_true_and_published_side_by_side_equal_the_cli(server):
    """The headline thresholds, each by the end of its year: true and published, as
    ``forecast run`` answers them (its metadata), with one Monte Carlo error each."""
    status, data = get_json(server, f"/api/forecast?{QUERY}")
    answers = json.loads(cli_result(*issue_argv()).metadata["questions"])
    assert [(a["threshold"], a["by"]) for a in answers] == [(1e27, "2026-12-31"), (1e28, "2028-12-31"),
                                                            (1e29, "2030-12-31")]
    rows = data["questions"]
    assert [r["label"] for r in rows] == ["P(≥1e27 FLOP by 2026)", "P(≥1e28 FLOP by 2028)", "P(≥1e29 FLOP by 2030)"]
    assert [r["headline"] for r in rows] == [False, True, False]
    for row, a in zip(rows, answers):
        assert row["true"] == a["true_probability"] and row["published"] == a["published_probability"]
        assert row["true_text"] == f"{100 * a['true_probability']:.1f}% ± {100 * a['true_mcse']:.1f}%"
        assert row["published_text"] == f"{100 * a['published_probability']:.1f}% ± {100 * a['published_mcse']:.1f}%"
    assert "Published" in data["questions_note"] and "forecasting questions resolve on" in data["questions_note"]
    assert data["headline"]["mcse_note"].startswith(f"± one Monte Carlo standard error: the noise of drawing "
                                                    f"{SAMPLES:,} worlds")
    # a headline off the list is answered too, beside them
    _status, data = get_json(server, f"/api/forecast?{QUERY}&threshold=3e27&year=2027")
    assert [r["label"] for r in data["questions"] if r["headline"]] == ["P(≥3e27 FLOP by 2027)"]
    assert len(data["questions"]) == 4


def test_an_edit_is_answered_first_at_fewer_worlds_then_refined():
    """The first pass is ``forecast run`` at ``quick_samples`` worlds, the refinement at the
    page's; it is made only where it compiles nothing."""
    app = App(quick_samples=1000)
    query = f"samples={SAMPLES}"
    first = app.forecast(query, quick=True)  # no model compiled at 1,000 worlds yet: the full run
    assert first["quick"] is False and first["headline"]["samples"] == SAMPLES
    app.compile_quick(query)
    edit = f"samples={SAMPLES}&set=chip_growth:lognormal+1.3+to+2.5"
    quick = app.forecast(edit, quick=True)
    assert quick["quick"] is True and quick["headline"]["refining"] is True
    assert quick["headline"]["samples"] == 1000
    assert quick["headline"]["text"] == cli_headline("--samples", "1000", "--set", "chip_growth=lognormal 1.3 to 2.5")
    assert quick["query"] == "set=chip_growth:lognormal+1.3+to+2.5&samples=4000"  # the page's state
    assert quick["state"]["samples"] == SAMPLES
    refined = app.forecast(edit)
    assert refined["quick"] is False and refined["headline"]["refining"] is False
    assert refined["headline"]["text"] == cli_headline("--samples", str(SAMPLES), "--set",
                                                       "chip_growth=lognormal 1.3 to 2.5")
    assert app.forecast(edit, quick=True)["quick"] is False  # refined already: kept, answered at once


def test_a_threshold_off_the_default_list_changes_no_world(server):
    _status, data = get_json(server, f"/api/forecast?{QUERY}&threshold=3e27&year=2027")
    assert data["ok"]
    assert data["headline"]["text"] == cli_headline(*issue_argv(), threshold="3e27", year=2027)


def test_details_and_summary_csv_equal_the_cli(server):
    result = cli_result(*issue_argv())
    status, data = get_json(server, f"/api/details?{QUERY}")
    shown = per_year_table(result, display=True)
    assert data["table"]["rows"][3] == [2028, *map(str, shown.loc[2028].values)]
    assert set(data["takes"]["values"]) == {"power", "capital", "cost", "energy"}
    status, kind, body = get(server, f"/download/summary.csv?{QUERY}")
    assert status == 200 and kind.startswith("text/csv")
    assert body.decode() == per_year_table(result).to_csv(float_format="%.6g")


def test_priors_download_is_a_prior_file_of_the_same_set(server, tmp_path):
    status, _kind, body = get(server, f"/download/priors.toml?{QUERY}")
    assert status == 200
    path = tmp_path / "page.toml"
    path.write_bytes(body)
    expected = load_prior_set("power_wall", overrides=OVERRIDES)
    assert load_prior_set(path).fingerprint() == expected.fingerprint()


@pytest.mark.parametrize("kind", ["fan", "timeline", "constraints", "resources"])
def test_charts_are_png(server, kind):
    status, content_type, body = get(server, f"/api/plot/{kind}.png?{QUERY}")
    assert status == 200 and content_type == "image/png" and body[:8] == b"\x89PNG\r\n\x1a\n"


def test_bad_input_is_one_line_never_a_server_error(server):
    status, data = get_json(server, "/api/forecast?set=mfu:gamma+1+to+2&samples=4000")
    assert status == 200 and not data["ok"] and "computed" not in data
    assert data["errors"] == [{"field": "set:mfu", "message": "mfu: unknown distribution 'gamma' in "
                               "'gamma 1 to 2'; use one of fixed, normal, lognormal, uniform, loguniform, beta, "
                               "metalog, mixture"}]
    # a bad URL on the first load: reported, and the rest of the state is still forecast
    status, data = get_json(server, f"/api/forecast?samples={SAMPLES}&year=2099&bogus=1&fallback=1")
    assert status == 200 and not data["ok"] and data["computed"]
    assert {e["field"] for e in data["errors"]} == {"year", "url"}
    assert data["headline"]["text"] == cli_headline("--samples", str(SAMPLES))
    for path in ("/api/plot/fan.png?samples=zero", "/api/plot/pie.png", "/download/x.txt", "/api/tornado?years=x",
                 "/download/report.zip?set=mfu:2"):
        status, data = get_json(server, path)
        assert status == 400 and len(data["errors"]) == 1 and "\n" not in data["errors"][0]["message"]
    status, data = get_json(server, "/nowhere")
    assert status == 404


def test_tornado_ranks_priors_for_the_headline(server):
    status, data = get_json(server, f"/api/tornado?{QUERY}")
    assert status == 200 and 0 < data["base"] < 1
    widths = [abs(r["p_high"] - r["p_low"]) for r in data["rows"]]
    assert widths == sorted(widths, reverse=True) and len(widths) >= 5
    assert data["label"] == "P(≥1e28 FLOP by 2028)"


def test_report_zip_is_the_report_folder(server):
    status, kind, body = get(server, f"/download/report.zip?{QUERY}")
    assert status == 200 and kind == "application/zip"
    archive = zipfile.ZipFile(io.BytesIO(body))
    assert {"report-power_wall/report.html", "report-power_wall/samples.nc",
            "report-power_wall/metadata.json", "report-power_wall/fan.svg"} <= set(archive.namelist())
    metadata = json.loads(archive.read("report-power_wall/metadata.json"))
    assert "mfu=beta mean 0.45, 0.35 to 0.55" in json.dumps(metadata)


def test_forecast_app_prints_its_url_and_stops_on_ctrl_c(tmp_path):
    """The command itself: serves on 127.0.0.1, says where, and Ctrl-C stops it cleanly."""
    import signal
    import subprocess

    priors = tmp_path / "mine.toml"
    priors.write_text('name = "mine"\n[priors.mfu]\nspec = "beta mean 0.45, 0.35 to 0.55"\n', encoding="utf-8")
    from tests.terminal import cli_as_in_a_terminal

    process = subprocess.Popen(
        cli_as_in_a_terminal("app", "--port", "0", "--no-browser", "--priors", str(priors)),
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        line = process.stdout.readline()
        assert line.startswith("forecast app: serving http://127.0.0.1:"), line
        url = line.split()[3]
        with urllib.request.urlopen(url, timeout=60) as response:
            assert response.status == 200
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=60)
    finally:
        process.kill()
    assert process.returncode == 0, err
    assert "stopped" in out and "Traceback" not in err


def test_forecast_app_refuses_a_missing_prior_file(capsys):
    from outputs.cli import main

    assert main(["app", "--priors", "no/such.toml", "--no-browser"]) == 2
    assert capsys.readouterr().err.strip() == (
        "forecast app: error: no/such.toml: no such prior file (built-in sets: "
        + ", ".join(__import__("priors").builtin_prior_files()) + ")")


# -- issue 22: other origins, bounds, load, cancelling, stopping ------------------------------
def raw_get(server, path: str, headers: dict | None = None):
    """(status, body) of a GET with the headers given (Host included)."""
    import http.client

    host, port = server.server_address[:2]
    connection = http.client.HTTPConnection(host, port, timeout=120)
    connection.putrequest("GET", path, skip_host=True)
    for key, value in {"Host": f"127.0.0.1:{port}", **(headers or {})}.items():
        connection.putheader(key, value)
    connection.endheaders()
    response = connection.getresponse()
    return response.status, response.read()


def test_other_hosts_and_origins_are_refused(server):
    port = server.server_address[1]
    for headers in ({"Host": f"evil.example:{port}"}, {"Host": "127.0.0.1"},
                    {"Origin": "http://evil.example"}, {"Origin": f"http://evil.example:{port}"},
                    {"Sec-Fetch-Site": "cross-site"}):
        status, body = raw_get(server, "/download/priors.toml", headers)
        assert status == 403 and b"refused" in body, (headers, status, body)
    for headers in ({}, {"Host": f"localhost:{port}"}, {"Origin": f"http://127.0.0.1:{port}"},
                    {"Sec-Fetch-Site": "same-origin"}):
        assert raw_get(server, "/download/priors.toml", headers)[0] == 200, headers


@pytest.mark.parametrize("query, field", [
    ("samples=1e400", "samples"), ("seed=1e400", "seed"), ("samples=300000000", "samples"),
    ("set=mfu:mixture+" + "+".join(["0.01:+beta+0.3+to+0.5;"] * 100), "set"),
    ("set=mfu:beta+0.3+to+0.5&" * 2000, "url"),
])
def test_out_of_bounds_queries_are_one_line_errors(server, query, field):
    status, payload = get_json(server, f"/api/forecast?{query}")
    assert status == 200 and not payload["ok"] and payload["errors"][0]["field"].startswith(field), payload
    assert "\n" not in payload["errors"][0]["message"]
    status, kind, body = get(server, f"/api/plot/fan.png?{query}")
    assert status == 400 and kind == "application/json" and json.loads(body)["errors"], body


def test_a_broken_prior_file_is_refused_when_the_app_starts(tmp_path, capsys):
    from outputs.cli import main

    broken = tmp_path / "broken.toml"
    broken.write_text('name = "broken"\n[priors.mfu]\nspec = "beta 0.3 to"\n')
    assert main(["app", "--priors", str(broken), "--no-browser"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and str(broken) in err and "mfu" in err and "Traceback" not in err


def test_a_full_server_answers_busy_not_reset():
    import socket

    from outputs.app.server import AppServer, _Handler

    handler = type("Handler", (_Handler,), {"app": None, "timeout": 30})
    server = AppServer(("127.0.0.1", 0), handler, workers=1, waiting=1)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    # one connection in the worker, one waiting, the rest answered "busy": none says anything
    sockets = [socket.create_connection(server.server_address[:2])]
    deadline = time.monotonic() + 10
    while server.in_flight < 1 and time.monotonic() < deadline:  # the worker has taken it
        time.sleep(0.01)
    sockets += [socket.create_connection(server.server_address[:2]) for _ in range(3)]
    try:
        answers = []
        for sock in sockets:
            sock.settimeout(3)
            try:
                answers.append(sock.recv(4096))
            except TimeoutError:
                answers.append(None)  # held: in the worker or waiting for it
        busy = [a for a in answers if a is not None]
        assert len(busy) == 2 and all(a.startswith(b"HTTP/1.0 503") and b"busy" in a for a in busy), answers
    finally:
        for sock in sockets:
            sock.close()
        server.shutdown()
        server.server_close()


@pytest.mark.parametrize("sent", ["goes off", "is swallowed"])
def test_a_computation_whose_page_has_gone_is_cancelled(server, monkeypatch, sent):
    import socket
    import time

    from outputs.app import server as server_module

    if sent == "is swallowed":
        # the exception sent into the computing thread can go off inside a garbage-collection
        # callback, which swallows it (seen in CI: in JAX's _xla_gc_callback); the engine
        # must still stop, before its next chunk
        monkeypatch.setattr(server_module, "_raise_in", lambda thread_id, exception: 1)
    app = server.RequestHandlerClass.app
    # not computed by any other test; ten chunks, several seconds: far longer than the watch
    # needs to see the page gone (0.2 s), even on a loaded machine (three chunks were not)
    seed = {"goes off": 99, "is swallowed": 98}[sent]
    query = f"samples=600000&seed={seed}"
    port = server.server_address[1]
    sock = socket.create_connection(("127.0.0.1", port))
    sock.sendall(f"GET /api/forecast?{query} HTTP/1.0\r\nHost: 127.0.0.1:{port}\r\n\r\n".encode())
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:  # until it computes
        if not app.lock.acquire(blocking=False):
            break
        app.lock.release()
        time.sleep(0.01)
    sock.close()
    assert app.lock.acquire(timeout=120)  # cancelled: the engine is free again
    app.lock.release()
    checked = app.valid(query)
    assert not any(key[3] == 600000 and key[4] == seed for key in app._results), "it ran to the end"
    assert checked.state.samples == 600000


def test_forecast_app_stops_cleanly_on_sigterm(tmp_path):
    import os
    import signal
    import subprocess
    import sys
    from pathlib import Path

    import outputs

    repo = Path(outputs.__file__).resolve().parents[1]
    process = subprocess.Popen(
        [sys.executable, "-m", "outputs.cli", "app", "--port", "0", "--no-browser"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=repo,
        env={**os.environ, "PYTHONPATH": str(repo)},
    )
    try:
        line = process.stdout.readline()
        assert line.startswith("forecast app: serving http://127.0.0.1:"), line
        process.send_signal(signal.SIGTERM)  # while the warm-up computes
        out, err = process.communicate(timeout=60)
    finally:
        process.kill()
    assert process.returncode == 0, err
    assert "stopped" in out and "Traceback" not in err and "FATAL" not in err, err


def test_a_client_that_goes_away_prints_no_traceback(capsys):
    # socketserver's own handle_error prints a traceback to stderr; the app's server
    # overrides it (a client that leaves mid-request is not an error of the server)
    import socketserver

    from outputs.app.server import AppServer

    assert AppServer.handle_error is not socketserver.BaseServer.handle_error
    try:
        raise ConnectionResetError("client went away")
    except ConnectionResetError:
        AppServer.handle_error(None, None, ("127.0.0.1", 1))
    assert capsys.readouterr().err == ""
