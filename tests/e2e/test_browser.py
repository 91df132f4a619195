"""The Airflow UI in a real browser: log in, read the DAG's grid, a failed task's log, the sync report.

Debian's headless Chromium is driven by Selenium through the system chromedriver, so nothing is
downloaded. The report pages are checked with axe-core (from npm, pinned in package-lock.json and
installed by ``make browser``) for serious accessibility violations, wide and narrow. Screenshots
land in ``artifacts/`` for a person (or CI) to look at.
"""

from __future__ import annotations

import csv
import io
import shutil
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pytest

from an_sf_sync_dev.demo import DAG_ID
from tests.e2e.conftest import ROOT, LocalAirflow
from tests.e2e.test_airflow_api import (
    FAILING_TASK,
    FAULT,
    FAULT_IN_LOG,
    FAULT_SANDBOX,
    add_salesforce_donor,
    salesforce,
)

pytestmark = pytest.mark.slow

CHROMIUM, CHROMEDRIVER = Path("/usr/bin/chromium"), Path("/usr/bin/chromedriver")
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
ARTIFACTS = ROOT / "artifacts"
NARROW = (390, 844)  # a phone held upright
RUN_ID = "e2e_browser_fault"
REPORT_RUN_ID = "e2e_browser_report"
FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync", "--window-size=1400,1000")


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    if not (CHROMIUM.exists() and CHROMEDRIVER.exists()):
        pytest.skip("needs Debian's chromium and chromium-driver (/usr/bin/chromium, /usr/bin/chromedriver)")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    assert AXE.exists(), f"{AXE} is missing: `make browser` installs it (npm ci)"
    profile = tempfile.mkdtemp(prefix="an-sf-sync-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in (*FLAGS, f"--user-data-dir={profile}"):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
    driver.implicitly_wait(0)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


@pytest.fixture(scope="module")
def failed_run(airflow: LocalAirflow) -> str:
    """A run whose FAILING_TASK failed, made through the REST API."""
    api = airflow.api
    api.wait_clear_of_the_hour()
    add_salesforce_donor(airflow, "browser")
    time.sleep(1)  # windows are whole seconds
    sandbox = getattr(airflow, FAULT_SANDBOX)
    sandbox.control("POST", "faults", FAULT)
    try:
        api.trigger(RUN_ID, None)
        api.wait_run(RUN_ID, "failed")
    finally:
        sandbox.control("DELETE", "faults")
    return RUN_ID


@pytest.fixture(scope="module")
def run_with_rejects(airflow: LocalAirflow) -> str:
    """A run that rejected records: Contacts created in Salesforce without an email (a problem to fix) and
    outside the Subscribers campaign (not in scope)."""
    api = airflow.api
    api.wait_clear_of_the_hour()
    sf = salesforce(airflow)
    for i in range(3):
        sf.Contact.create({"LastName": f"No Email {i}"})
        sf.Contact.create({"LastName": f"Outside {i}", "Email": f"e2e.outside.{i}@example.org"})
    time.sleep(1)  # windows are whole seconds
    api.trigger(REPORT_RUN_ID, None)
    api.wait_run(REPORT_RUN_ID, "success")
    return REPORT_RUN_ID


def shoot(driver, name: str) -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    driver.save_screenshot(str(path))
    return path


def log_in(driver, airflow: LocalAirflow) -> None:
    """Log in through the UI's form, unless this browser already is."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as EC
    from selenium.webdriver.support.ui import WebDriverWait

    driver.get(f"{airflow.base_url}/dags/{DAG_ID}")
    wait = WebDriverWait(driver, 30)
    wait.until(lambda d: "/auth/login" in d.current_url or d.find_elements(By.TAG_NAME, "nav"), "no page")
    if "/auth/login" not in driver.current_url:
        return
    wait.until(EC.presence_of_element_located((By.NAME, "username")), "no login form").send_keys("admin")
    driver.find_element(By.NAME, "password").send_keys(airflow.password)
    shoot(driver, "01-login")
    driver.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    wait.until(lambda d: "/auth/login" not in d.current_url, "login did not leave the login page")


def serious_violations(driver) -> list[str]:
    """axe-core's serious and critical findings on the current page, one line each."""
    driver.set_script_timeout(60)
    driver.execute_script(AXE.read_text(encoding="utf-8"))
    violations = driver.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "axe.run(document, {resultTypes: ['violations']}).then(r => done(r.violations), e => done([{id: 'axe-error',"
        " impact: 'critical', help: String(e), nodes: []}]));")
    return [f"{v['id']} ({v['impact']}): {v['help']} at {[n['target'] for n in v['nodes']][:3]}"
            for v in violations if v["impact"] in ("serious", "critical")]


def test_log_in_read_the_grid_the_failed_log_and_the_report(browser, local_airflow: LocalAirflow, failed_run: str):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as EC
    from selenium.webdriver.support.ui import WebDriverWait

    driver, base = browser, local_airflow.base_url
    wait = WebDriverWait(driver, 30)

    def text_shown(text: str) -> None:
        wait.until(EC.presence_of_element_located((By.XPATH, f"//*[contains(text(), '{text}')]")),
                   f"{text!r} never showed on {driver.current_url}")

    log_in(driver, local_airflow)

    # the grid: the DAG, its tasks as rows, the failed run
    driver.get(f"{base}/dags/{DAG_ID}")
    for text in (DAG_ID, FAILING_TASK, "Failed Run", "an-sf-sync"):
        text_shown(text)
    shoot(driver, "02-dag-grid")

    # the failed try's log, scrolled to the error
    driver.get(f"{base}/dags/{DAG_ID}/runs/{quote(failed_run, safe='')}/tasks/{FAILING_TASK}")
    text_shown("Failed")
    text_shown(FAULT_IN_LOG)
    error = driver.find_element(By.XPATH, f"//*[contains(text(), '{FAULT_IN_LOG}')]")
    driver.execute_script("arguments[0].scrollIntoView({block: 'center'});"  # then back to the lines' start
                          "for (let e = arguments[0]; e; e = e.parentElement) e.scrollLeft = 0;", error)
    assert "Task failed with exception" in driver.find_element(By.TAG_NAME, "body").text
    shoot(driver, "03-failed-task-log")

    # the sync report, inside the UI (an iframe of the plugin's page)
    driver.get(f"{base}/plugin/sync-report")
    frame = wait.until(EC.presence_of_element_located((By.TAG_NAME, "iframe")), "the report is not embedded")
    assert frame.get_attribute("src").endswith("/sync-report/")
    driver.switch_to.frame(frame)
    text_shown("Sync report")
    body = driver.find_element(By.TAG_NAME, "body").text
    assert "Open rejects" in body and "Conflicts" in body
    driver.switch_to.default_content()
    shoot(driver, "04-sync-report")


def test_the_report_tab_filters_downloads_and_charts_accessibly(browser, airflow: LocalAirflow, run_with_rejects: str):
    """A run's Sync report tab, its rejects filtered by reason, their CSV, the all-runs chart; axe-clean."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as EC
    from selenium.webdriver.support.ui import Select, WebDriverWait

    driver, base = browser, airflow.base_url
    wait = WebDriverWait(driver, 30)
    log_in(driver, airflow)
    first = run_with_rejects

    # the run's tab inside the UI: the report in its frame
    driver.get(f"{base}/dags/{DAG_ID}/runs/{quote(first, safe='')}/plugin/sync-report-run")
    frame = wait.until(EC.presence_of_element_located((By.TAG_NAME, "iframe")), "the run tab has no report")
    assert frame.get_attribute("src").endswith(f"/sync-report/run?run_id={quote(first, safe='')}")
    driver.switch_to.frame(frame)
    wait.until(EC.presence_of_element_located((By.XPATH, "//h2[text()='Per object']")), "no per-object table")
    body = driver.find_element(By.TAG_NAME, "body").text
    assert "People" in body and "Action Network → Salesforce" in body and "{'" not in body
    driver.switch_to.default_content()
    shoot(driver, "05-run-report-tab")

    # the page itself: accessible, then filtered by a reason
    driver.get(f"{base}/sync-report/run?run_id={quote(first, safe='')}&scope=all")
    assert serious_violations(driver) == []
    body = driver.find_element(By.TAG_NAME, "body").text
    assert "NOT_IN_SUBSCRIBERS_CAMPAIGN" in body and "Not in scope" in body
    code = "MISSING_EMAIL"
    Select(driver.find_element(By.ID, "f-reason")).select_by_value(code)
    driver.find_element(By.CSS_SELECTOR, "form.filters button[type=submit]").click()
    wait.until(lambda d: f"reason={code}" in d.current_url, "filtering did not reload the page")
    shown = [cell.text for cell in driver.find_elements(By.CSS_SELECTOR, "td span.code")]
    assert shown and set(shown) == {code}, (code, shown)
    shoot(driver, "06-rejects-filtered")

    # the CSV of those rejects, downloaded by the browser
    downloads = Path(tempfile.mkdtemp(prefix="an-sf-sync-downloads-"))
    driver.execute_cdp_cmd("Browser.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(downloads)})
    link = driver.find_element(By.PARTIAL_LINK_TEXT, "Download these rejects as CSV")
    expected = int(link.text.rsplit("(", 1)[1].split()[0].replace(",", ""))
    link.click()
    csv_file = wait.until(lambda d: next((p for p in downloads.glob("*.csv") if p.stat().st_size), None),
                          "the CSV was not downloaded")
    time.sleep(0.5)  # let the download finish writing
    rows = list(csv.DictReader(io.StringIO(csv_file.read_text(encoding="utf-8"))))
    assert len(rows) == expected and {r["reason_code"] for r in rows} == {code}
    assert all(r["reason"] and r["what_to_do"] and r["message"] for r in rows)
    shutil.rmtree(downloads, ignore_errors=True)

    # the all-runs page: a chart of the last days, its figures, no raw structures
    driver.get(f"{base}/sync-report/")
    charts = driver.find_elements(By.CSS_SELECTOR, "figure.chart svg[role=img]")
    assert len(charts) == 2 and driver.find_elements(By.CSS_SELECTOR, "figure.chart svg rect")
    assert charts[0].get_attribute("aria-label").startswith("Records moved per run:")
    assert "{'" not in driver.find_element(By.TAG_NAME, "body").text
    assert serious_violations(driver) == []
    shoot(driver, "07-all-runs-chart")

    # narrow: the pages reflow; wide tables scroll inside their own region, not the page
    driver.set_window_size(*NARROW)
    try:
        for url, name in ((f"{base}/sync-report/", "08-all-runs-narrow"),
                          (f"{base}/sync-report/run?run_id={quote(first, safe='')}", "09-run-narrow")):
            driver.get(url)
            shoot(driver, name)
            overflow = driver.execute_script(
                "return document.documentElement.scrollWidth - document.documentElement.clientWidth;")
            assert overflow <= 1, f"{url} scrolls sideways by {overflow}px at {NARROW[0]}px wide"
            assert serious_violations(driver) == []
    finally:
        driver.set_window_size(1400, 1000)
