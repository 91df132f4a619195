"""The Airflow UI in a real browser: log in, read the DAG's grid, a failed task's log, the sync report.

Debian's headless Chromium is driven by Selenium through the system chromedriver, so nothing is
downloaded. Screenshots land in ``artifacts/`` for a person (or CI) to look at.
"""

from __future__ import annotations

import shutil
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pytest

from an_sf_sync_dev.demo import DAG_ID
from tests.e2e.conftest import ROOT, LocalAirflow
from tests.e2e.test_airflow_api import FAILING_TASK, FAULT, FAULT_IN_LOG, FAULT_SANDBOX, add_salesforce_donor

pytestmark = pytest.mark.slow

CHROMIUM, CHROMEDRIVER = Path("/usr/bin/chromium"), Path("/usr/bin/chromedriver")
ARTIFACTS = ROOT / "artifacts"
RUN_ID = "e2e_browser_fault"
FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync", "--window-size=1400,1000")


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    if not (CHROMIUM.exists() and CHROMEDRIVER.exists()):
        pytest.skip("needs Debian's chromium and chromium-driver (/usr/bin/chromium, /usr/bin/chromedriver)")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

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
    api.wait_idle()
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


def shoot(driver, name: str) -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    driver.save_screenshot(str(path))
    return path


def test_log_in_read_the_grid_the_failed_log_and_the_report(browser, local_airflow: LocalAirflow, failed_run: str):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as EC
    from selenium.webdriver.support.ui import WebDriverWait

    driver, base = browser, local_airflow.base_url
    wait = WebDriverWait(driver, 30)

    def text_shown(text: str) -> None:
        wait.until(EC.presence_of_element_located((By.XPATH, f"//*[contains(text(), '{text}')]")),
                   f"{text!r} never showed on {driver.current_url}")

    driver.get(f"{base}/dags/{DAG_ID}")
    wait.until(EC.presence_of_element_located((By.NAME, "username")), "no login form").send_keys("admin")
    driver.find_element(By.NAME, "password").send_keys(local_airflow.password)
    shoot(driver, "01-login")
    driver.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    wait.until(lambda d: "/auth/login" not in d.current_url, "login did not leave the login page")

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
    assert "Rejects" in body and "Conflicts" in body
    driver.switch_to.default_content()
    shoot(driver, "04-sync-report")
