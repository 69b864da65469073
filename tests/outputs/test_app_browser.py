"""``forecast app`` end to end in headless Chromium (Debian's ``chromium``, driven by Playwright).

One server and one browser for the module. The numbers expected on the page are computed
here through ``forecast run``'s own parser and runner. The screenshot is written to
``$FORECAST_APP_ARTIFACTS`` (a folder; CI keeps it) or to the test's tmp_path.
"""

from __future__ import annotations

import json
import os
import shutil
import threading
from pathlib import Path
from urllib.parse import unquote_plus

import numpy as np
import pytest

from outputs.app import App, make_server
from tests.outputs.test_app_server import QUERY, SAMPLES, cli_headline, cli_result, issue_argv

CHROMIUM = os.environ.get("FORECAST_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
#: Milliseconds to wait for the page: the first update compiles the model.
WAIT = 90_000

sync_api = pytest.importorskip("playwright.sync_api", reason="the playwright package is not installed "
                               "(pip install -e '.[dev]')")
if not (Path(CHROMIUM).exists() or shutil.which(CHROMIUM)):
    pytest.skip(f"no Chromium at {CHROMIUM} (apt-get install chromium; .ci/run does)", allow_module_level=True)


@pytest.fixture(scope="module")
def server():
    server = make_server(App(), port=0)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def browser():
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1500, "height": 1000}, accept_downloads=True)
    page = context.new_page()
    problems = []
    page.on("pageerror", lambda err: problems.append(str(err)))
    yield page
    context.close()
    assert problems == []  # no script error on the page


def headline(page) -> str:
    return page.text_content("#headline")


def wait_for_headline(page, text: str) -> None:
    page.wait_for_function("t => document.getElementById('headline').textContent === t", arg=text, timeout=WAIT)


def test_open_url_reads_the_cli_headline(server, page):
    page.goto(server.url + "?" + QUERY)
    wait_for_headline(page, cli_headline(*issue_argv()))
    assert page.input_value("#prior-mfu") == "beta mean 0.45, 0.35 to 0.55"
    assert page.input_value("#scenario") == "power_wall"
    assert "changed" in page.get_attribute("#row-power_limit_gw_max", "class")


def test_typing_a_prior_moves_the_headline_to_the_cli_number(server, page):
    page.goto(server.url + f"?samples={SAMPLES}")
    wait_for_headline(page, cli_headline("--samples", str(SAMPLES)))
    page.fill("#prior-chip_growth", "lognormal 1.2 to 2")
    wait_for_headline(page, cli_headline("--samples", str(SAMPLES), "--set", "chip_growth=lognormal 1.2 to 2"))
    page.wait_for_function("() => location.search.includes('chip_growth')", timeout=WAIT)
    assert "set=chip_growth:lognormal 1.2 to 2" in unquote_plus(page.url)
    assert not page.is_visible("#stale-flag")
    # a bad spec: the CLI's message next to the field, in the page's terms (the prior's
    # name, not --set); the last good forecast stays, marked as not updated
    shown = headline(page)
    page.fill("#prior-lag_years", "lognormal 5 to 2")
    error = "#row-lag_years .field-error"
    page.wait_for_function(f"() => document.querySelector('{error}').textContent.length > 0", timeout=WAIT)
    assert page.text_content(error) == "lag_years: the 5th percentile (5) must be below the 95th percentile (2)"
    assert headline(page) == shown
    assert "lag_years" not in unquote_plus(page.url)  # the URL keeps the last good state
    assert page.is_visible("#stale-flag") and page.text_content("#stale-flag") == "not updated"
    assert page.text_content("#stale-note").startswith("Not updated: lag_years is refused")
    assert "outdated" in page.get_attribute("#results", "class")
    assert page.eval_on_selector("#headline", "e => getComputedStyle(e).textDecorationLine") == "line-through"
    # fixed: up to date again
    page.fill("#prior-lag_years", "lognormal 0.2 to 1")
    wait_for_headline(page, cli_headline("--samples", str(SAMPLES), "--set", "chip_growth=lognormal 1.2 to 2",
                                         "--set", "lag_years=lognormal 0.2 to 1"))
    page.wait_for_function("() => document.getElementById('stale-flag').hidden", timeout=WAIT)
    assert "outdated" not in page.get_attribute("#results", "class")


def test_a_bad_url_parameter_is_reported_on_the_page(server, page):
    page.goto(server.url + f"?samples={SAMPLES}&set=mfu:gamma+1+to+2&as_of=soon")
    wait_for_headline(page, cli_headline("--samples", str(SAMPLES)))
    assert page.text_content("#row-mfu .field-error").startswith("mfu: unknown distribution 'gamma'")
    assert page.text_content('.field-error[data-field="as_of"]') == (
        "as of: expected a date YYYY-MM-DD, a year, 'record' or 'none', got 'soon'")
    assert not page.is_visible("#stale-flag")  # the forecast of the valid rest: up to date


def test_screenshot_of_the_whole_page(server, page, tmp_path):
    page.set_viewport_size({"width": 1500, "height": 1900})
    page.goto(server.url + "?" + QUERY)
    wait_for_headline(page, cli_headline(*issue_argv()))
    page.wait_for_function("() => document.querySelectorAll('#tornado .bar-row').length > 0", timeout=WAIT)
    page.wait_for_function("() => ['fan', 'timeline', 'constraints', 'resources'].every("
                           "k => document.getElementById('plot-' + k).naturalWidth > 0)", timeout=WAIT)
    page.wait_for_function("() => document.getElementById('busy').hidden", timeout=WAIT)
    folder = Path(os.environ.get("FORECAST_APP_ARTIFACTS") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "app.png"
    page.screenshot(path=str(path), full_page=True)
    from PIL import Image

    pixels = np.asarray(Image.open(path).convert("RGB"))
    assert pixels.shape[0] >= 1900 and pixels.shape[1] == 1500
    assert len(np.unique(pixels.reshape(-1, 3), axis=0)) > 500  # charts, text: far from blank
    assert (pixels.std(axis=(0, 1)) > 20).all()


def test_true_and_published_side_by_side_under_the_headline(server, page):
    page.goto(server.url + f"?samples={SAMPLES}")
    wait_for_headline(page, cli_headline("--samples", str(SAMPLES)))
    page.wait_for_function("() => document.querySelectorAll('#questions tr').length > 1", timeout=WAIT)
    rows = page.eval_on_selector_all("#questions tr", "rows => rows.map(r => [...r.cells].map(c => c.textContent))")
    answers = json.loads(cli_result("--samples", str(SAMPLES)).metadata["questions"])
    assert rows[0] == ["", "true", "published"]
    assert rows[1:] == [[f"P(≥{a['threshold']:.0e} FLOP by {a['by'][:4]})".replace("e+", "e"),
                         f"{100 * a['true_probability']:.1f}% ± {100 * a['true_mcse']:.1f}%",
                         f"{100 * a['published_probability']:.1f}% ± {100 * a['published_mcse']:.1f}%"]
                        for a in answers]
    assert page.get_attribute("#questions tr:nth-child(3)", "class") == "headline-question"  # 1e28 by 2028
    assert page.text_content("#questions-note").startswith("True: a run that large has finished")
    assert page.text_content("#mcse-note").startswith("± one Monte Carlo standard error")


def test_at_800_px_the_headline_stays_in_view_above_the_priors(server, browser, tmp_path):
    context = browser.new_context(viewport={"width": 800, "height": 1000})
    page = context.new_page()
    try:
        page.goto(server.url + f"?samples={SAMPLES}")
        wait_for_headline(page, cli_headline("--samples", str(SAMPLES)))
        box = page.locator("#headline-card").bounding_box()
        assert box["y"] < 200 and box["y"] + box["height"] < 1000  # at the top, not below 36 fields
        questions = page.locator("#questions-card").bounding_box()
        assert questions["y"] + questions["height"] < page.locator("#controls").bounding_box()["y"] + 1
        # the groups start closed, so the charts follow the few settings
        assert page.eval_on_selector_all("#prior-groups details", "ds => ds.filter(d => d.open).length") == 0
        assert page.locator("#plot-fan").bounding_box()["y"] < 2000
        # editing a prior far down the page: the headline is still in view
        page.eval_on_selector_all("#prior-groups details", "ds => ds.forEach(d => { d.open = true; })")
        page.locator("#prior-estimate_sd_dex").scroll_into_view_if_needed()
        assert page.evaluate("() => window.scrollY") > 1000  # the field is far down the page
        field = page.locator("#prior-estimate_sd_dex").bounding_box()  # (in the viewport's coordinates)
        card = page.locator("#headline-card").bounding_box()
        assert -1 <= card["y"] and card["y"] + card["height"] <= 1000  # in view
        assert card["y"] + card["height"] <= field["y"]  # and it does not hide the field
        folder = Path(os.environ.get("FORECAST_APP_ARTIFACTS") or tmp_path)
        folder.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(folder / "app-800.png"))
    finally:
        context.close()
