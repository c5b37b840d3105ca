"""`sohs dashboard` in a real browser (headless Chromium through selenium), over a ledger filled by
real `sohs run` nights against `sohs portal serve`: what a person sees on the page.

One browser session makes every check (start-up is the slow part). Screenshots are saved under the
test's temporary folder (`screens/`), to look at when a check fails.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from sohs_cli.signing.sign import FileSigner, sign_document
from sohs_cli.signing.testpki import TestPki
from tests.conftest import require_tool
from tests.portal_helpers import PASSWORD, USER, envelope, free_port, served, server_process

TOKEN = "dashboard-token-for-the-browser-test"
CHROME_FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--disable-dev-shm-usage", "--window-size=1280,1000", "--lang=vi")


def clinic_setup(tmp_path: Path, pki: TestPki, base: str) -> tuple[Path, dict[str, str]]:
    clinic = tmp_path / "clinic"
    for folder in ("outbox", "sent", "rejected", "failed"):
        (clinic / folder).mkdir(parents=True, exist_ok=True)
    (clinic / "sohs.toml").write_text(
        f'facility = "79001"\n[portal]\nurl = "{base}"\nusername = "{USER}"\n'
        f'[signing]\np12 = "{pki.clinic_p12}"\npassword_file = "{pki.password_file}"\n'
        f'[run]\nsettle_seconds = 0\n', encoding="utf-8")
    env = os.environ | {"SOHS_HOME": str(tmp_path / "home"), "SOHS_PORTAL_PASSWORD": PASSWORD, "SOHS_LANG": "en"}
    return clinic, env


def sohs(clinic: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "sohs_cli", *args], cwd=clinic, env=env, capture_output=True,
                          text=True, timeout=300)


@contextlib.contextmanager
def dashboard(clinic: Path, env: dict[str, str], tmp_path: Path, *extra: str) -> Iterator[str]:
    port = free_port()
    with server_process([sys.executable, "-m", "sohs_cli", "dashboard", "--port", str(port), *extra], port,
                        "/static/dashboard.css", tmp_path / "dashboard.log", cwd=clinic,
                        env=env | {"SOHS_LANG": ""}) as base:
        yield base
    assert TOKEN not in (tmp_path / "dashboard.log").read_text()  # never logged


@contextlib.contextmanager
def chromium() -> Iterator[Any]:
    binary = require_tool("chromium")
    driver_path = require_tool("chromedriver")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = binary
    for flag in CHROME_FLAGS:
        options.add_argument(flag)
    with tempfile.TemporaryDirectory(prefix="sohs-chromium-") as profile:
        options.add_argument(f"--user-data-dir={profile}")
        driver = webdriver.Chrome(service=Service(driver_path), options=options)
        try:
            driver.set_page_load_timeout(30)
            yield driver
        finally:
            driver.quit()


def arrived(browser: Any, part: str) -> None:
    """Wait until the browser shows the page whose address holds ``part`` (a click loads a new page)."""
    from selenium.webdriver.support.ui import WebDriverWait

    WebDriverWait(browser, 15).until(lambda b: part in b.current_url and
                                     b.execute_script("return document.readyState") == "complete")


def nights_ago(home: Path, days: int) -> None:
    """Date every document of the ledger ``days`` earlier: the night it holds becomes an earlier night
    (the runs of one test all happen now; a clinic's happen on different nights)."""
    db = sqlite3.connect(home / "ledger.sqlite3")
    db.execute("UPDATE documents SET first_seen = strftime('%Y-%m-%dT%H:%M:%SZ', first_seen, ?)", (f"-{days} days",))
    db.commit()
    db.close()


def night(db_path: Path, name: str) -> str:
    db = sqlite3.connect(db_path)
    (stamp,) = db.execute("SELECT date(first_seen, '-5 hours') FROM documents WHERE path LIKE ?",
                          (f"%{name}%",)).fetchone()
    db.close()
    return str(stamp)


def test_the_dashboard_in_a_browser(tmp_path: Path, pki: TestPki, clinic: FileSigner, examples: Path) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    screens = tmp_path / "screens"
    screens.mkdir()
    home = tmp_path / "home"
    with served(tmp_path, pki) as base:
        folder, env = clinic_setup(tmp_path, pki, base)
        outbox = folder / "outbox"
        # night 1: three good envelopes, one invalid one (refused before sending: in the ledger as rejected,
        # with its local findings), and a signed invalid document sent with `sohs submit`, which the
        # portal rejects while processing it
        for i in range(3):
            (outbox / f"N1_{i}.xml").write_bytes(envelope(f"LKN1{i:05d}"))
        shutil.copy(examples / "invalid_card_length_3176.xml", outbox / "local_invalid.xml")
        first = sohs(folder, env, "run", "--json")
        assert first.returncode == 1, first.stdout + first.stderr
        bad = tmp_path / "portal_bad.signed.xml"
        bad.write_bytes(sign_document((examples / "invalid_card_length_3176.xml").read_bytes(), clinic))
        sent = sohs(folder, env, "submit", str(bad))
        assert sent.returncode == 0, sent.stdout + sent.stderr
        refresh = sohs(folder, env, "run", "--json")  # refreshes results: the portal refused it
        assert json.loads(refresh.stdout)["processed"] >= 1, refresh.stdout + refresh.stderr
        nights_ago(home, 1)
        # night 2 (tonight): two more
        for i in range(2):
            (outbox / f"N2_{i}.xml").write_bytes(envelope(f"LKN2{i:05d}"))
        second = sohs(folder, env, "run", "--json")
        assert second.returncode == 0, second.stdout + second.stderr
    n1, n2 = night(home / "ledger.sqlite3", "N1_0"), night(home / "ledger.sqlite3", "N2_0")
    assert n1 != n2
    (tmp_path / "token").write_text(TOKEN + "\n")
    os.chmod(tmp_path / "token", 0o600)

    with dashboard(folder, env, tmp_path, "--token-file", str(tmp_path / "token")) as url, chromium() as browser:
        # the token is asked for, once; the session cookie carries the rest
        browser.get(url + "/")
        assert "/login" in browser.current_url
        browser.save_screenshot(str(screens / "0-login.png"))
        browser.find_element(By.ID, "token").send_keys(TOKEN)
        browser.find_element(By.ID, "login-go").click()
        WebDriverWait(browser, 15).until(lambda b: "/login" not in b.current_url)
        assert browser.current_url.rstrip("/") == url
        browser.save_screenshot(str(screens / "1-nights.png"))
        assert browser.find_element(By.TAG_NAME, "html").get_attribute("lang") == "vi"
        assert "Hồ sơ theo đêm" in browser.page_source

        # the chart's numbers: one bar per night, stacked by state
        bar1 = browser.find_element(By.CSS_SELECTOR, f'#nights-chart a.bar[data-night="{n1}"]')
        bar2 = browser.find_element(By.CSS_SELECTOR, f'#nights-chart a.bar[data-night="{n2}"]')
        assert (bar1.get_attribute("data-accepted"), bar1.get_attribute("data-rejected"),
                bar1.get_attribute("data-total")) == ("3", "2", "5")
        assert (bar2.get_attribute("data-accepted"), bar2.get_attribute("data-total")) == ("2", "2")
        assert bar1.find_element(By.CSS_SELECTOR, "text.total").text == "5"
        heights = [float(r.get_attribute("height")) for r in bar1.find_elements(By.CSS_SELECTOR, "rect.s-accepted,"
                                                                                  "rect.s-rejected")]
        assert len(heights) == 2 and 2 * heights[0] == pytest.approx(3 * heights[1], rel=0.01)
        row = browser.find_element(By.CSS_SELECTOR, f'#nights-table tr[data-night="{n1}"]')
        cells = {c.get_attribute("data-state"): c.text for c in row.find_elements(By.CSS_SELECTOR, "td[data-state]")}
        assert (cells["accepted"], cells["rejected"], cells["total"]) == ("3", "2", "5")
        assert browser.find_element(By.CSS_SELECTOR, '#last-night [data-count="total"]').text == "2"
        assert "mã thoát" in browser.find_element(By.ID, "run-line").text

        # a bar opens its night's documents; the rejected one shows its field errors, labelled in Vietnamese
        browser.execute_script("arguments[0].dispatchEvent(new MouseEvent('click', {bubbles: true}))", bar1)
        arrived(browser, f"from={n1}")
        rows = browser.find_elements(By.CSS_SELECTOR, "#documents-table tbody tr")
        assert len(rows) == 5
        rejected = [r for r in rows if r.get_attribute("data-state") == "rejected"]
        assert len(rejected) == 2 and all("từ chối" in r.text for r in rejected)
        by_portal = [r for r in rejected if "portal_bad" in r.text]
        assert len(by_portal) == 1
        by_portal[0].find_element(By.CSS_SELECTOR, "td.file a").click()
        arrived(browser, "/documents/")
        browser.save_screenshot(str(screens / "2-document.png"))
        errors = browser.find_element(By.ID, "field-errors").text
        assert "MA_THE_BHYT" in errors and "Mã thẻ BHYT" in errors and "mỗi thẻ cần 15" in errors
        receipt = browser.find_element(By.ID, "receipt").text
        assert "giờ Việt Nam (UTC+7)" in receipt
        assert browser.find_element(By.ID, "ma-giao-dich").text.startswith("79001")
        assert "portal_bad.signed.xml" in browser.find_element(By.ID, "doc-path").text

        # a filter narrows the table
        browser.get(url + "/documents")
        assert len(browser.find_elements(By.CSS_SELECTOR, "#documents-table tbody tr")) == 7
        browser.find_element(By.ID, "f-ma-lk").send_keys("LKN200001")
        browser.find_element(By.ID, "filter-go").click()
        arrived(browser, "ma_lk=LKN200001")
        rows = browser.find_elements(By.CSS_SELECTOR, "#documents-table tbody tr")
        assert len(rows) == 1 and "LKN200001" in rows[0].text
        assert "1 hồ sơ" in browser.find_element(By.ID, "doc-count").text
        browser.save_screenshot(str(screens / "3-filtered.png"))

        # what keeps failing: the portal's field and the local finding, both with their labels
        browser.get(url + f"/failing?from={n1}&to={n2}")
        assert "Mã thẻ BHYT" in browser.find_element(By.ID, "failing-fields").text
        assert "Mã thẻ BHYT" in browser.find_element(By.ID, "failing-local").text
        browser.save_screenshot(str(screens / "4-failing.png"))

        # health: the last run's end and exit code, and the certificate the last night signed with
        browser.get(url + "/health")
        assert browser.find_element(By.ID, "exit-code").text == "0"
        assert "còn" in browser.find_element(By.ID, "health-cert").text  # "N ngày" left
        browser.save_screenshot(str(screens / "5-health.png"))

        # English by choice, and a phone's width
        browser.find_element(By.ID, "lang-switch").click()
        WebDriverWait(browser, 15).until(
            lambda b: b.find_element(By.TAG_NAME, "html").get_attribute("lang") == "en")
        assert browser.find_element(By.TAG_NAME, "html").get_attribute("lang") == "en"
        assert "Last run" in browser.page_source
        browser.set_window_size(390, 844)
        browser.get(url + "/")
        width = browser.execute_script("return document.documentElement.scrollWidth")
        assert width <= 390, "the page scrolls sideways on a phone"
        browser.save_screenshot(str(screens / "6-phone.png"))
    assert len(list(screens.glob("*.png"))) == 7


def test_the_readme_demo_night_on_the_dashboard(tmp_path: Path) -> None:
    """The README's promise: after `sohs demo --dir DIR`, `sohs dashboard --home DIR/home` shows the
    demo's night, its one rejected document and why, in Vietnamese."""
    env = os.environ | {"SOHS_HOME": str(tmp_path / "unused"), "SOHS_LANG": ""}
    demo = subprocess.run([sys.executable, "-m", "sohs_cli", "demo", "--dir", str(tmp_path / "demo")], env=env,
                          capture_output=True, text=True, timeout=300)
    assert demo.returncode == 0, demo.stdout + demo.stderr
    with dashboard(tmp_path, env, tmp_path, "--home", str(tmp_path / "demo" / "home")) as url:
        page = httpx.get(url + "/").text
        nights = httpx.get(url + "/api/nights").json()
    latest = nights["nights"][-1]
    assert (latest["total"], latest["accepted"], latest["rejected"]) == (5, 4, 1)  # with the demo's checkup record
    assert 'lang="vi"' in page and "Bị từ chối trong đêm gần nhất (1) và lý do" in page
    assert "invalid_card_length_3176.xml" in page and "<b>Mã thẻ BHYT</b>" in page and "mỗi thẻ cần 15" in page


def test_a_token_others_can_read_is_warned_about_and_the_token_never_logged(tmp_path: Path) -> None:
    from tests.dashboard_helpers import Doc, fill

    fill(tmp_path / "home", [Doc("a.xml", "accepted", "2026-12-01T16:00:00Z")])
    token = tmp_path / "token"
    token.write_text(TOKEN + "\n")
    os.chmod(token, 0o644)
    env = os.environ | {"SOHS_HOME": str(tmp_path / "home")}
    with dashboard(tmp_path, env, tmp_path, "--token-file", str(token), "--host", "127.0.0.1") as url:
        assert httpx.get(url + "/api/health").status_code == 401
        assert httpx.get(url + "/api/health", headers={"authorization": f"Bearer {TOKEN}"}).status_code == 200
        assert httpx.post(url + "/login", data={"token": TOKEN}).status_code == 303
    log = (tmp_path / "dashboard.log").read_text()
    assert "chmod 600" in log  # (the dashboard() helper checks the token is not in the log)
