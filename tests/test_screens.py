"""Every page in headless Chromium, in every language: an axe-core accessibility check with no serious or
critical violation, and (with IDP_SCREENS=1, `make screens`) screenshots at 1280 and 390 px written to
test-artifacts/screens/."""

import base64
import os
import re
from pathlib import Path

import pytest
from selenium.webdriver.common.by import By

from idp import i18n
from idp.audit import record_signin
from idp.directory import service as directory
from idp.extensions import db
from idp.oidc.models import Client

from .browser import ARTIFACTS, fill_and_submit, press
from .support import PASSWORD, enable_method

AXE = Path(__file__).resolve().parent / "a11y" / "node_modules" / "axe-core" / "axe.min.js"
SCREENS = ARTIFACTS / "screens"
WIDTHS = (1280, 390) if os.environ.get("IDP_SCREENS") else (1280,)
BLOCKING = {"serious", "critical"}


def _viewport(driver, width: int) -> None:
    driver.execute_cdp_cmd(
        "Emulation.setDeviceMetricsOverride",
        {"width": width, "height": 900 if width > 600 else 844, "deviceScaleFactor": 1, "mobile": width < 600},
    )


def _axe(driver) -> list[dict]:
    driver.execute_script(AXE.read_text())
    return driver.execute_async_script("""
        const done = arguments[arguments.length - 1];
        axe.run(document, {resultTypes: ["violations"]}).then((result) => done(result.violations.map((v) => ({
            id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.slice(0, 3).map((n) => n.target.join(" "))}))));
    """)


def _shoot(driver, name: str) -> None:
    SCREENS.mkdir(parents=True, exist_ok=True)
    shot = driver.execute_cdp_cmd("Page.captureScreenshot", {"format": "png", "captureBeyondViewport": True})
    (SCREENS / f"{name}.png").write_bytes(base64.b64decode(shot["data"]))


def _visit(driver, url: str, name: str, lang: str, problems: list) -> None:
    for width in WIDTHS:
        _viewport(driver, width)
        driver.get(url)
        driver.find_element(By.TAG_NAME, "h1")
        if os.environ.get("IDP_SCREENS"):
            _shoot(driver, f"{name}-{lang}-{width}")
        if width == WIDTHS[0]:
            problems.extend({"page": name, "lang": lang, **v} for v in _axe(driver) if v["impact"] in BLOCKING)


@pytest.mark.browser
def test_every_page_passes_axe_in_every_language(app, live, seed, browser):
    if not AXE.exists():
        pytest.skip("axe-core is not installed: make browser runs npm install in tests/a11y")
    app.config["IDP_DEV_MODE"] = True  # the demo app is part of the tour
    from idp.cli import seed_demo

    seed_demo(live.url.replace("127.0.0.1", "localhost"))
    for method_id in ("TemporaryAccessPass", "SoftwareOath", "HardwareOath", "Fido2"):
        enable_method(seed.tenant.id, method_id)
    record_signin(
        tenant_id=seed.tenant.id,
        result="failure",
        upn="mallory@contoso.test",
        client_id=seed.client_id,
        methods=["password"],
        failure_reason="invalid password",  # what a wrong password records
    )
    group = directory.create_group(seed.tenant, "Sales")
    directory.add_member(group, seed.alice)
    db.session.commit()
    base = f"{live.url.replace('127.0.0.1', 'localhost')}"
    anonymous = {
        "home": "/",
        "sign-in": "/contoso.test/login/",
        "demo": "/_demo/",
        "timed-out": "/contoso.test/login/kmsi",
    }
    signed_in = {
        "console-home": "/contoso.test/admin/",
        "users": "/contoso.test/admin/users",
        "user-new": "/contoso.test/admin/users/new",
        "user": f"/contoso.test/admin/users/{seed.alice.id}",
        "groups": "/contoso.test/admin/groups",
        "group-new": "/contoso.test/admin/groups/new",
        "group": f"/contoso.test/admin/groups/{group.id}?find=a",
        "policies": "/contoso.test/admin/policies",
        "policy-tap": "/contoso.test/admin/policies/TemporaryAccessPass",
        "policy-passkey": "/contoso.test/admin/policies/Fido2",
        "policy-email": "/contoso.test/admin/policies/Email",
        "sign-in-logs": "/contoso.test/admin/logs/sign-ins",
        "audit-logs": "/contoso.test/admin/logs/audit",
        "hardware-tokens": "/contoso.test/admin/oath/tokens",
        "mfa-settings": "/contoso.test/admin/mfa",
        "named-locations": "/contoso.test/admin/locations",
        "named-location-new": "/contoso.test/admin/locations/new",
        "auth-strengths": "/contoso.test/admin/authentication-strengths",
        "auth-strength-built-in": "/contoso.test/admin/authentication-strengths/00000000-0000-0000-0000-000000000004",
        "auth-strength-new": "/contoso.test/admin/authentication-strengths/new",
        "company-branding": "/contoso.test/admin/branding",
        "app-registrations": "/contoso.test/admin/apps",
        "app-registration-new": "/contoso.test/admin/apps/new",
        "app-registration": f"/contoso.test/admin/apps/{db.session.get(Client, seed.client_id).object_id}",
        "security-info": "/contoso.test/mysecurityinfo/",
        "add-authenticator-app": "/contoso.test/mysecurityinfo/oath/app",
        "sign-out": "/contoso.test/mysecurityinfo/signout",
        "signed-in": "/contoso.test/login/done",
    }
    browser.get("data:text/html,<html lang=en><title>t</title><main><img src='x.png'></main></html>")
    assert "image-alt" in {v["id"] for v in _axe(browser)}  # the checker itself works
    problems = []
    for lang in i18n.languages():
        browser.delete_all_cookies()
        browser.get(base + "/")
        browser.add_cookie({"name": i18n.COOKIE, "value": lang})
        for name, path in anonymous.items():
            _visit(browser, base + path, name, lang, problems)
        _viewport(browser, 1280)
        browser.get(base + "/contoso.test/admin/")
        fill_and_submit(browser, "username", "admin@contoso.test")
        _visit(browser, browser.current_url, "password", lang, problems)
        fill_and_submit(browser, "password", PASSWORD)
        _visit(browser, browser.current_url, "stay-signed-in", lang, problems)
        press(browser, "button[value=no]")
        for name, path in signed_in.items():
            _visit(browser, base + path, name, lang, problems)
        browser.get(base + "/contoso.test/admin/logs/sign-ins")
        detail = re.search(r'href="([^"]*logs/sign-ins\?id=[^"&]+)', browser.page_source).group(1).replace("&amp;", "&")
        _visit(browser, base + detail, "sign-in-detail", lang, problems)
        browser.get(base + f"/contoso.test/admin/users/{seed.alice.id}")
        press(
            browser,
            "//button[normalize-space()='%s']"
            % ("Add Temporary Access Pass" if lang == "en" else "一時アクセス パスを追加"),
            By.XPATH,
        )
        _visit(browser, browser.current_url, "tap-created", lang, problems)  # the second view: the code is gone
    assert not problems, "\n".join(
        f"{p['page']} [{p['lang']}] {p['impact']} {p['id']}: {p['help']} {p['nodes']}" for p in problems
    )
