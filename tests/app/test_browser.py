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
import socket
import subprocess
import sys
import time
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

DATA_QUESTION = "What was revenue in 2018?"
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

    chat = page.locator('[data-testid="stChatInput"] textarea')
    expect(chat).to_be_editable(timeout=ANSWER_MS)
    chat.fill(question)
    chat.press("Enter")
    messages = page.locator('[data-testid="stChatMessage"]')
    expect(messages.filter(has_text=question).first).to_be_visible(timeout=30_000)
    idle = page.locator('[data-testid="stApp"][data-test-script-state="notRunning"]')
    expect(idle).to_have_count(1, timeout=ANSWER_MS)
    exception = page.locator('[data-testid="stException"]')
    try:
        expect(expected.or_(exception).first).to_be_visible(timeout=RENDER_MS)
    except AssertionError:
        raise AssertionError(f"{question!r}: the answer lacks {expected}; it reads:\n"
                             f"{messages.last.inner_text()}") from None
    if exception.count():
        raise AssertionError(f"the app raised:\n{exception.first.inner_text()}")


def test_chat_in_a_real_browser(
    chromium: Path, streamlit_server: StreamlitServer, database_url: str
) -> None:
    from playwright.sync_api import Error as PlaywrightError
    from playwright.sync_api import expect, sync_playwright

    with psycopg.connect(database_url) as conn:
        row = conn.execute(REVENUE_SQL).fetchone()
    assert row is not None and row[0] is not None
    figure = f"€{float(row[0]):,.0f}"  # format_value(value, "eur", "en"); the default user sees all

    ARTIFACTS.mkdir(exist_ok=True)
    page_errors: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(chromium), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1600})
            page.on("pageerror", lambda exc: page_errors.append(str(exc)))
            try:
                page.goto(streamlit_server.url, timeout=30_000)
                messages = page.locator('[data-testid="stChatMessage"]')

                table = page.locator('[data-testid="stDataFrame"]')
                _ask(page, DATA_QUESTION, messages.last.locator(table))
                expect(messages.last).to_contain_text(figure)

                _ask(page, FOLLOW_UP_QUESTION, messages.last.locator(table))
                expect(messages.last).to_contain_text("following your previous question")
                expect(messages.last).to_contain_text("2022")

                # Each source is an expander labelled "[n] title — section (date) · path".
                source = messages.last.locator('[data-testid="stExpander"]').filter(has_text="[1]")
                _ask(page, DOC_QUESTION, source)
                expect(messages.last.locator(table)).to_have_count(0)

                page.screenshot(path=str(ARTIFACTS / "browser_chat.png"), full_page=True)
            except (AssertionError, PlaywrightError) as exc:
                shot = ARTIFACTS / "browser_failure.png"
                with contextlib.suppress(PlaywrightError):
                    page.screenshot(path=str(shot), full_page=True)
                pytest.fail(
                    f"{exc}\n\nscreenshot: {shot}\npage errors: {page_errors or 'none'}\n"
                    f"streamlit output:\n{streamlit_server.output()}",
                    pytrace=False,
                )
        finally:
            browser.close()
    assert not page_errors, f"JavaScript errors in the page: {page_errors}"
