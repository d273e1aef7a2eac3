"""Headless Debian Chromium for browser tests (never a downloaded browser build)."""

import os
import shutil
import tempfile
from contextlib import contextmanager
from pathlib import Path

import pytest
from selenium.common.exceptions import StaleElementReferenceException, WebDriverException
from selenium.webdriver.common.by import By
from selenium.webdriver.support.expected_conditions import staleness_of
from selenium.webdriver.support.ui import WebDriverWait

CHROMIUM, CHROMEDRIVER = "/usr/bin/chromium", "/usr/bin/chromedriver"
ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"


@pytest.fixture
def browser():
    if not (os.path.exists(CHROMIUM) and os.path.exists(CHROMEDRIVER)):
        pytest.skip("Debian chromium/chromium-driver are not installed (make test installs them as root)")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    profile = tempfile.mkdtemp(prefix="idp-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-quic",
        "--window-size=1100,900",
        f"--user-data-dir={profile}",
    ):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.implicitly_wait(15)
    yield driver
    driver.quit()
    shutil.rmtree(profile, ignore_errors=True)


def screenshot(driver, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    driver.save_screenshot(str(ARTIFACTS / f"{name}.png"))


def _loaded(driver, timeout=15) -> None:
    WebDriverWait(driver, timeout).until(lambda d: d.execute_script("return document.readyState") == "complete")


@contextmanager
def new_page(driver, timeout=15):
    """Wait, after the block, until the page it started on has been replaced and the new one has loaded.
    Without this a find_element right after a submit can catch the old page while it unloads."""
    _loaded(driver, timeout)
    old = driver.find_element(By.TAG_NAME, "html")
    yield
    WebDriverWait(driver, timeout).until(staleness_of(old))
    _loaded(driver, timeout)


def _replaced_under_us(error: Exception) -> bool:
    """The document changed between finding an element and using it (a redirect chain still settling)."""
    return isinstance(error, StaleElementReferenceException) or "does not belong to the document" in str(error)


def _settled(step):
    """Run a step that changes nothing on the server (find, type), retrying while the page settles."""
    for attempt in range(3):
        try:
            return step()
        except WebDriverException as error:
            if not _replaced_under_us(error) or attempt == 2:
                raise


def fill_and_submit(driver, field_id: str, text: str) -> None:
    """Type into a field, then submit its form. Submitting by script returns at once: a keystroke or a
    click that navigates can be reported as an error by the driver after it took effect."""

    def typed():
        field = driver.find_element(By.ID, field_id)
        field.clear()
        field.send_keys(text)
        return field

    field = _settled(typed)
    with new_page(driver):
        driver.execute_script("arguments[0].form.requestSubmit()", field)


def press(driver, selector: str, by: str = By.CSS_SELECTOR) -> None:
    """Click a button or link that leads to another page."""
    button = _settled(lambda: driver.find_element(by, selector))
    with new_page(driver):
        driver.execute_script("arguments[0].click()", button)


def heading(driver) -> str:
    _loaded(driver)
    return driver.find_element(By.TAG_NAME, "h1").text
