"""The chat in a real browser: `streamlit run app.py` driven by Debian's Chromium via Playwright.

AppTest (tests/test_app.py) runs the script without a browser; this test is the one that sees what
a user sees: the websocket, the React frontend, the chat input, the rendered table and sources.

Playwright cannot download its browsers here, so it drives /usr/bin/chromium (`.ci/run` installs
Debian's `chromium` package when it is missing). Without it the test fails, on purpose; developers
without apt can set SOURCED_SKIP_BROWSER=1 to skip it.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import re
import socket
import subprocess
import sys
import time
import traceback
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import psycopg
import pytest

if TYPE_CHECKING:
    from playwright.sync_api import Locator, Page

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "tests" / "artifacts"
CHROMIUM = Path("/usr/bin/chromium")
# Without the background-networking flags, Chromium's own update/sync/probe traffic meets a closed
# network and the page load is refused many times before it gets through.
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
SERVER_START_S = 60
# The first question loads the sentence encoder in the Streamlit process.
ANSWER_MS = 90_000
# Once the script run has ended, the frontend still needs a moment to draw its last elements.
RENDER_MS = 10_000

DESKTOP = {"width": 1400, "height": 1600}
PHONE = {"width": 390, "height": 844}

DATA_QUESTION = "What was revenue in 2018?"
# The French breakdown whose "Chiffre d'affaires" label broke the chart's field path.
FRENCH_BREAKDOWN = "Chiffre d'affaires par région en 2023"
FRENCH_FOLLOW_UP = "et en 2022 ?"
PHONE_QUESTION = "Revenue by region in 2023"
# Asked right after DATA_QUESTION: the pipeline answers it with 2018's question as its context.
FOLLOW_UP_QUESTION = "and in 2022?"
DOC_QUESTION = "What is the remote work policy?"
REVENUE_SQL = (
    "SELECT sum(oi.quantity * oi.unit_price * (1 - oi.discount)) FROM warehouse.orders o"
    " JOIN warehouse.order_items oi ON oi.order_id = o.order_id"
    " WHERE o.status = 'completed' AND o.order_date >= '2018-01-01'"
    " AND o.order_date < '2019-01-01'"
)


@dataclass
class StreamlitServer:
    url: str
    process: subprocess.Popen[bytes]
    log: Path

    def output(self, tail: int = 4_000) -> str:
        text = self.log.read_text(errors="replace") if self.log.exists() else ""
        return text[-tail:] or "(no output)"


@pytest.fixture(scope="session")
def chromium() -> Path:
    """Debian's Chromium, checked before the database and the server are started for nothing."""
    if importlib.util.find_spec("playwright") is None:
        pytest.fail("the playwright package is missing: run `make install` (it is a dev extra)",
                    pytrace=False)
    if CHROMIUM.exists():
        return CHROMIUM
    message = (
        f"{CHROMIUM} not found: the browser test drives Debian's Chromium. Run `.ci/run` (it "
        "installs it), or `sudo apt-get install --no-install-recommends chromium`; set "
        "SOURCED_SKIP_BROWSER=1 to skip this test on a machine without apt."
    )
    if os.environ.get("SOURCED_SKIP_BROWSER") == "1":
        pytest.skip(message)
    pytest.fail(message, pytrace=False)


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_healthy(server: StreamlitServer) -> None:
    deadline = time.monotonic() + SERVER_START_S
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            pytest.fail(f"streamlit exited with {server.process.returncode}:\n{server.output()}")
        try:
            with urllib.request.urlopen(f"{server.url}/_stcore/health", timeout=2) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.2)
    pytest.fail(f"streamlit not healthy after {SERVER_START_S}s:\n{server.output()}")


@pytest.fixture
def streamlit_server(
    chromium: Path, resources: object, settings_env: dict[str, str], tmp_path: Path
) -> Iterator[StreamlitServer]:
    """`streamlit run app.py` on a free port, against the session's seeded test database."""
    port = _free_port()
    log = tmp_path / "streamlit.log"
    command = [
        sys.executable, "-m", "streamlit", "run", "app.py",
        "--server.headless=true",
        "--server.address=127.0.0.1",
        f"--server.port={port}",
        "--server.fileWatcherType=none",
        "--browser.gatherUsageStats=false",
    ]
    with log.open("wb") as sink:
        process = subprocess.Popen(
            command, cwd=ROOT, env={**os.environ, **settings_env},
            stdout=sink, stderr=subprocess.STDOUT,
        )
    server = StreamlitServer(f"http://127.0.0.1:{port}", process, log)
    try:
        _wait_healthy(server)
        yield server
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


def _ask(page: Page, question: str, expected: Locator) -> None:
    """Send `question`, wait for the script run it triggers to end, then require `expected`.

    Streamlit marks the app root with data-test-script-state (its own e2e tests rely on it), so a
    polite error message in place of an answer fails soon after the run ends, not at a timeout.
    """
    from playwright.sync_api import expect

    idle = page.locator('[data-testid="stApp"][data-test-script-state="notRunning"]')
    chat = page.locator('[data-testid="stChatInput"] textarea')
    expect(idle).to_have_count(1, timeout=ANSWER_MS)
    expect(chat).to_be_editable(timeout=ANSWER_MS)
    chat.fill(question)
    chat.press("Enter")
    messages = page.locator('[data-testid="stChatMessage"]')
    expect(messages.filter(has_text=question).first).to_be_visible(timeout=30_000)
    expect(idle).to_have_count(1, timeout=ANSWER_MS)
    exception = page.locator('[data-testid="stException"]')
    try:
        expect(expected.or_(exception).first).to_be_visible(timeout=RENDER_MS)
    except AssertionError:
        raise AssertionError(f"{question!r}: the answer lacks {expected}; it reads:\n"
                             f"{messages.last.inner_text()}") from None
    if exception.count():
        raise AssertionError(f"the app raised:\n{exception.first.inner_text()}")


@contextlib.contextmanager
def _browser_page(chromium: Path, server: StreamlitServer, name: str,
                  viewport: dict[str, int]) -> Iterator[tuple[Page, list[str]]]:
    """A page on the app with its JavaScript and console errors collected; on a failure the
    screenshot `tests/artifacts/browser_<name>_failure.png` and the server's output."""
    from playwright.sync_api import Error as PlaywrightError
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(exist_ok=True)
    errors: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(chromium), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport=viewport)
            page.on("pageerror", lambda exc: errors.append(str(exc)))
            page.on("console", lambda msg: errors.append(msg.text)
                    if msg.type == "error" else None)
            try:
                page.goto(server.url, timeout=30_000)
                yield page, errors
            except (AssertionError, PlaywrightError) as exc:
                shot = ARTIFACTS / f"browser_{name}_failure.png"
                with contextlib.suppress(PlaywrightError):
                    page.screenshot(path=str(shot), full_page=True)
                where = [f"line {f.lineno}: {f.line}" for f in traceback.extract_tb(
                    exc.__traceback__) if f.filename == __file__]
                pytest.fail(
                    f"{exc}\n\nat {where}\nscreenshot: {shot}\npage errors: {errors or 'none'}\n"
                    f"streamlit output:\n{server.output()}",
                    pytrace=False,
                )
        finally:
            browser.close()


def _open_in_workbench(page: Page, question: str, button: str, heading: str) -> None:
    """As the analyst chloe, ask `question`, open its SQL expander and click the workbench
    button once the app is idle; a click that lands while the frontend is still settling can be
    lost (seen under load), so it is clicked again if the workbench has not opened."""
    from playwright.sync_api import expect

    _sign_in_as(page, "Chloé Dubois (chloe)", "analyst")
    messages = page.locator('[data-testid="stChatMessage"]')
    sql = messages.last.locator('[data-testid="stExpander"]').filter(has_text="SQL")
    _ask(page, question, sql)
    idle = page.locator('[data-testid="stApp"][data-test-script-state="notRunning"]')
    title = page.get_by_role("heading", name=heading)
    sql.first.click()
    for _ in range(3):
        expect(idle).to_have_count(1, timeout=ANSWER_MS)
        sql.first.get_by_role("button", name=button).click()
        try:
            expect(title).to_be_visible(timeout=RENDER_MS // 2)
            return
        except AssertionError:
            if not sql.first.get_by_role("button", name=button).is_visible():
                sql.first.click()  # the expander closed with the rerun
    expect(title).to_be_visible(timeout=RENDER_MS)


def _sign_in_as(page: Page, name: str, group: str) -> None:
    """The demo picker in the sidebar: choose the user by the name it shows, then wait for the
    sidebar to list one of their groups (the rerun the choice starts has ended)."""
    from playwright.sync_api import expect

    idle = page.locator('[data-testid="stApp"][data-test-script-state="notRunning"]')
    expect(idle).to_have_count(1, timeout=ANSWER_MS)
    expect(page.locator('[data-testid="stChatInput"] textarea')).to_be_editable(timeout=ANSWER_MS)
    picker = page.locator('[data-testid="stSidebar"] [data-testid="stSelectbox"]').first
    for _ in range(3):  # a click while the frontend is still settling can be lost
        picker.click()
        page.get_by_role("option", name=name).click()
        page.wait_for_timeout(500)
        expect(idle).to_have_count(1, timeout=ANSWER_MS)
        if picker.locator("input").input_value() == name:
            break
    expect(picker.locator("input")).to_have_value(name)
    expect(page.locator('[data-testid="stSidebar"]')).to_contain_text(group, timeout=RENDER_MS)


def test_chat_in_a_real_browser(
    chromium: Path, streamlit_server: StreamlitServer, database_url: str
) -> None:
    from playwright.sync_api import expect

    with psycopg.connect(database_url) as conn:
        row = conn.execute(REVENUE_SQL).fetchone()
    assert row is not None and row[0] is not None
    # format_value(value, "eur", "en"): the default user sees all rows.
    figure = f"€{float(row[0]) / 1e6:,.1f}M"

    with _browser_page(chromium, streamlit_server, "chat", DESKTOP) as (page, errors):
        messages = page.locator('[data-testid="stChatMessage"]')
        # The landing: a welcome with examples to click, no developer toolbar.
        expect(page.get_by_text("what would you like to know?")).to_be_visible()
        expect(page.locator('[data-testid="stAppDeployButton"]')).to_have_count(0)

        table = page.locator('[data-testid="stDataFrame"]')
        _ask(page, DATA_QUESTION, messages.last.locator(table))
        expect(messages.last).to_contain_text(figure)
        expect(messages.last.locator('[data-testid="stMetric"]')).to_contain_text(figure)

        _ask(page, FOLLOW_UP_QUESTION, messages.last.locator(table))
        expect(messages.last).to_contain_text("following your previous question")
        expect(messages.last).to_contain_text("2022")

        # Each source is an expander labelled "[n] title — section (date) · path".
        source = messages.last.locator('[data-testid="stExpander"]').filter(has_text="[1]")
        _ask(page, DOC_QUESTION, source)
        expect(messages.last.locator(table)).to_have_count(0)

        page.screenshot(path=str(ARTIFACTS / "browser_chat.png"), full_page=True)
    assert not errors, f"JavaScript errors in the page: {errors}"


def test_a_french_breakdown_has_its_chart_and_french_labels(
    chromium: Path, streamlit_server: StreamlitServer
) -> None:
    from playwright.sync_api import expect

    with _browser_page(chromium, streamlit_server, "french", DESKTOP) as (page, errors):
        messages = page.locator('[data-testid="stChatMessage"]')
        chart = messages.last.locator('[data-testid="stVegaLiteChart"]')
        _ask(page, FRENCH_BREAKDOWN, chart)
        answer = messages.last
        # Drawn, not an empty frame: Vega renders a canvas (or an SVG).
        expect(answer.locator('[data-testid="stVegaLiteChart"]').locator("canvas, svg").first
               ).to_be_attached()
        expect(answer).to_contain_text("en tête avec")
        expect(answer).to_contain_text("Définition utilisée")
        expect(answer).to_contain_text("Depuis l'entrepôt · hors ligne")
        expect(answer.get_by_text("Télécharger en CSV")).to_be_visible()
        sidebar = page.locator('[data-testid="stSidebar"]')
        expect(sidebar).to_contain_text("Groupes")
        expect(sidebar).to_contain_text("Langue")
        expect(page.locator('[data-testid="stChatInput"] textarea')).to_have_attribute(
            "placeholder", re.compile("^Posez une question"))
        _ask(page, FRENCH_FOLLOW_UP, chart)
        expect(messages.last).to_contain_text("suite de votre question précédente")
        page.screenshot(path=str(ARTIFACTS / "browser_french.png"), full_page=True)
    assert not errors, f"errors in the page's console: {errors}"


def test_on_a_phone_the_answer_controls_fit_one_row(
    chromium: Path, streamlit_server: StreamlitServer
) -> None:
    from playwright.sync_api import expect

    with _browser_page(chromium, streamlit_server, "phone", PHONE) as (page, errors):
        messages = page.locator('[data-testid="stChatMessage"]')
        chart = messages.last.locator('[data-testid="stVegaLiteChart"]')
        _ask(page, PHONE_QUESTION, chart)
        answer = messages.last
        # Streamlit marks a keyed element's container with the class st-key-<key>.
        controls = [answer.locator(f'[class*="st-key-{key}-"] button:visible').first
                    for key in ("up", "downvote", "again")]
        for control in controls:
            expect(control).to_be_visible()
        controls[-1].scroll_into_view_if_needed()
        page.wait_for_timeout(500)  # measured once the page stopped scrolling
        boxes = [control.bounding_box() or {} for control in controls]
        tops = [round(b["y"]) for b in boxes]
        assert max(tops) - min(tops) < 10, f"the controls are on several rows: {boxes}"
        assert max(b["x"] + b["width"] for b in boxes) <= PHONE["width"]
        # The answer from its top, as a phone shows it (kept for the README).
        answer.evaluate("m => m.scrollIntoView({block: 'start'})")
        page.wait_for_timeout(500)
        page.screenshot(path=str(ARTIFACTS / "browser_phone_answer.png"))
        controls[0].click()  # the vote shows as selected
        expect(answer.locator('[data-testid="stBaseButton-primary"]:visible')).to_have_count(1)
        page.screenshot(path=str(ARTIFACTS / "browser_phone.png"), full_page=True)
    assert not errors, f"errors in the page's console: {errors}"


def test_open_in_workbench_keeps_the_analyst_signed_in(
    chromium: Path, streamlit_server: StreamlitServer
) -> None:
    from playwright.sync_api import expect

    with _browser_page(chromium, streamlit_server, "workbench", DESKTOP) as (page, errors):
        _open_in_workbench(page, DATA_QUESTION, "Open in SQL workbench", "SQL workbench")
        sidebar = page.locator('[data-testid="stSidebar"]')
        expect(sidebar.locator("input").first).to_have_value("Chloé Dubois (chloe)")
        expect(sidebar).to_contain_text("analyst")
        expect(page.locator("textarea").first).to_have_value(re.compile(r"SELECT\s*\n"))
        page.screenshot(path=str(ARTIFACTS / "browser_workbench.png"), full_page=True)
    assert not errors, f"errors in the page's console: {errors}"


def test_the_workbench_in_french(chromium: Path, streamlit_server: StreamlitServer) -> None:
    """A French question opened in the workbench: the page follows the question's language,
    and a run shows its French caption and formatted table."""
    from playwright.sync_api import expect

    with _browser_page(chromium, streamlit_server, "workbench_fr", DESKTOP) as (page, errors):
        _open_in_workbench(page, FRENCH_BREAKDOWN, "Ouvrir dans l'atelier SQL", "Atelier SQL")
        page.get_by_role("button", name="Exécuter").click()
        expect(page.get_by_text(re.compile(r"^\d+ lignes en .* ms\.$"))).to_be_visible(
            timeout=ANSWER_MS)
        # The SQL and its question stay in the editor after the run.
        expect(page.locator("textarea").first).to_have_value(re.compile(r"SELECT\s*\n"))
        expect(page.get_by_role("textbox").first).to_have_value(FRENCH_BREAKDOWN)
        main = page.locator('[data-testid="stMain"]')
        expect(main).to_contain_text("Tables que vous pouvez interroger")
        expect(main).to_contain_text("Réponses à revoir")
        for english in ("Review queue", "Verified queries", "Save as verified query"):
            expect(main).not_to_contain_text(english)
        page.screenshot(path=str(ARTIFACTS / "browser_workbench_fr.png"), full_page=True)
    assert not errors, f"errors in the page's console: {errors}"
