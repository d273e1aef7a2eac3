"""The admin console as a product: layout, dashboard, logs with filters and export, plain-word settings that keep
what was typed, post/redirect/get, confirmations, and a TAP shown exactly once."""

import csv
import io
import re

from sqlalchemy import select

from idp import i18n
from idp.audit import record_signin
from idp.directory import service as directory
from idp.directory.models import Roles
from idp.extensions import db
from idp.methods.tap.models import TemporaryAccessPass
from idp.mfa import settings

from .support import PASSWORD, Agent, enable_method, password_sign_in
from .test_pages_ux import english_left


def admin_agent(live, upn="admin@contoso.test", password=PASSWORD, lang="en", path="/contoso.test/admin/"):
    agent = Agent(live.url)
    agent.http.cookies.set(i18n.COOKIE, lang)
    agent.go(path)
    password_sign_in(agent, upn, password)
    return agent


def _some_sign_ins(seed):
    record_signin(
        tenant_id=seed.tenant.id,
        result="success",
        user=seed.alice,
        client_id=seed.client_id,
        methods=["password", "oath"],
    )
    record_signin(
        tenant_id=seed.tenant.id,
        result="failure",
        upn="mallory@contoso.test",
        client_id=seed.client_id,
        methods=["password"],
        failure_reason="wrong password",
    )
    db.session.commit()


def test_layout_navigation_roles_sign_out_and_breadcrumbs(live, seed):
    agent = admin_agent(live)
    page = agent.page.text
    for heading in ("Identity", "Protection", "Monitoring"):
        assert f"<h2>{heading}</h2>" in page
    for link in (
        "Users",
        "Authentication methods",
        "MFA settings",
        "Hardware OATH tokens",
        "Sign-in logs",
        "Audit logs",
    ):
        assert f">{link}</a>" in page
    assert "Global Administrator" in agent.text() and 'aria-current="page">Home' in page
    agent.go(f"/contoso.test/admin/users/{seed.alice.id}")
    crumbs = re.search(r'<nav class="breadcrumbs".*?</nav>', agent.page.text, re.S).group(0)
    assert ">Home</a>" in crumbs and ">Users</a>" in crumbs and "Alice Example" in crumbs
    agent.go("/contoso.test/mysecurityinfo/signout")
    assert "Sign out?" in agent.text()
    agent.submit("/signout")
    assert "You signed out" in agent.text()
    agent.go("/contoso.test/admin/")
    assert "Email or username" in agent.text()


def test_dashboard_charts_count_the_sign_in_log(live, seed):
    _some_sign_ins(seed)
    agent = admin_agent(live)  # the admin's own sign-in is the third
    page = agent.page.text
    assert page.count('<svg class="chart" role="img"') == 1  # MFA registration: a bar without text
    # the charts with labels are drawn twice: for wide screens and, with the same numbers, for a phone
    assert page.count('<svg class="chart wide" role="img"') == page.count('<svg class="chart narrow" role="img"') == 3
    assert "2 succeeded, 1 failed" in agent.text()
    assert "wrong password: 1" in page  # the failure-reasons chart's bar
    assert "Verification code from an authenticator app or token: 1" in page  # methods used
    assert "0 of 2 members have registered" in agent.text()


def test_sign_in_log_filters_detail_and_export(live, seed):
    _some_sign_ins(seed)
    agent = admin_agent(live)
    agent.go("/contoso.test/admin/logs/sign-ins?result=failure")
    assert "mallory@contoso.test" in agent.text() and "alice@contoso.test" not in agent.text()
    assert 'value="failure" selected' in agent.page.text  # the filter keeps its value
    agent.go("/contoso.test/admin/logs/sign-ins?method=oath")
    assert "alice@contoso.test" in agent.text() and "mallory" not in agent.text()
    row_id = re.search(r"[?&amp;]+id=([0-9a-f-]{36})", agent.page.text).group(1)
    agent.go(f"/contoso.test/admin/logs/sign-ins?id={row_id}")
    detail = re.search(r'<aside class="detail".*?</aside>', agent.page.text, re.S).group(0)
    assert "Multifactor authentication satisfied" in detail and "Web app" in detail
    agent.go("/contoso.test/admin/logs/sign-ins?user=admin")  # a sign-in made through the pages has its address
    row_id = re.search(r"[?&amp;]+id=([0-9a-f-]{36})", agent.page.text).group(1)
    agent.go(f"/contoso.test/admin/logs/sign-ins?id={row_id}")
    assert "<dd>127.0.0.1</dd>" in agent.page.text
    exported = agent.http.get(f"{live.url}/contoso.test/admin/logs/sign-ins?format=csv&user=mallory")
    assert (
        exported.headers["Content-Type"].startswith("text/csv")
        and "attachment" in exported.headers["Content-Disposition"]
    )
    rows = list(csv.DictReader(io.StringIO(exported.text.lstrip("\ufeff"))))
    assert [r["userPrincipalName"] for r in rows] == ["mallory@contoso.test"] and rows[0]["reason"] == "wrong password"
    as_json = agent.http.get(f"{live.url}/contoso.test/admin/logs/sign-ins?format=json&result=success").json()
    assert {r["userPrincipalName"] for r in as_json["value"]} == {"alice@contoso.test", "admin@contoso.test"}
    assert agent.http.get(f"{live.url}/contoso.test/admin/logs/sign-ins?format=xml").status_code == 400
    other = directory.create_tenant("Fabrikam", ["fabrikam.test"])
    db.session.commit()
    record_signin(tenant_id=other.id, result="success", upn="x@fabrikam.test")
    db.session.commit()
    from idp.audit.models import SignInLog

    foreign = db.session.scalar(select(SignInLog.id).where(SignInLog.tenant_id == other.id))
    assert agent.http.get(f"{live.url}/contoso.test/admin/logs/sign-ins?id={foreign}").status_code == 404


def test_csv_export_neutralises_formulas(live, seed):
    record_signin(tenant_id=seed.tenant.id, result="failure", upn='=HYPERLINK("x")', failure_reason="@SUM(A1)")
    db.session.commit()
    agent = admin_agent(live)
    exported = agent.http.get(f"{live.url}/contoso.test/admin/logs/sign-ins?format=csv&result=failure").text
    assert "'=HYPERLINK" in exported and "'@SUM" in exported


def test_audit_log_lists_changes_with_before_and_after(live, seed):
    enable_method(seed.tenant.id, "TemporaryAccessPass")
    agent = admin_agent(live)
    agent.go("/contoso.test/admin/policies/TemporaryAccessPass")
    agent.submit(
        "",
        state="on",
        defaultLength="12",
        minimumLifetimeInMinutes="60",
        maximumLifetimeInMinutes="480",
        defaultLifetimeInMinutes="60",
    )
    agent.go("/contoso.test/admin/logs/audit?activity=authentication+methods")
    assert "Update authentication methods policy" in agent.text()
    row_id = re.search(r"[?&amp;]+id=([0-9a-f-]{36})", agent.page.text).group(1)
    agent.go(f"/contoso.test/admin/logs/audit?id={row_id}")
    assert '"defaultLength": 12' in agent.page.text.replace("&#34;", '"')
    as_json = agent.http.get(f"{live.url}/contoso.test/admin/logs/audit?format=json&actor=admin").json()
    assert as_json["value"][0]["initiatedBy"] == "admin@contoso.test"


def test_settings_in_plain_words_keep_input_and_redirect_after_saving(live, seed):
    agent = admin_agent(live)
    agent.go("/contoso.test/admin/policies/TemporaryAccessPass")
    text = agent.text()
    assert "Minimum lifetime (minutes) (10–43,200)" in text and "minimumLifetimeInMinutes" not in text
    assert 'role="switch"' in agent.page.text
    agent.submit(
        "",
        state="on",
        defaultLength="49",
        minimumLifetimeInMinutes="60",
        maximumLifetimeInMinutes="480",
        defaultLifetimeInMinutes="60",
    )
    assert agent.page.status_code == 400
    field = re.search(r'<div class="field invalid">.*?</div>', agent.page.text, re.S).group(0)
    assert 'value="49"' in field and 'id="f-defaultLength-error"' in field  # kept, and the error beside it
    response = agent.http.post(
        agent.page.url,
        data={**_form(agent), "defaultLength": "12"},
        allow_redirects=False,
        headers={"Referer": agent.page.url},
    )
    assert response.status_code == 303 and "saved=1" in response.headers["Location"]
    agent.go("/contoso.test/admin/policies/Email")
    assert '<select id="f-allowExternalIdToUseEmailOtp"' in agent.page.text  # a three-value setting is a select


def _form(agent):
    from .support import forms

    return next(f for f in forms(agent.page.text) if f["method"] == "post" and "/language" not in f["action"])["fields"]


def test_readers_see_the_settings_disabled_with_the_reason(live, seed):
    directory.create_user(seed.tenant, "reader@contoso.test", "Reader", "pw-reader-1234", [Roles.GLOBAL_READER])
    db.session.commit()
    agent = admin_agent(
        live, "reader@contoso.test", "pw-reader-1234", path="/contoso.test/admin/policies/TemporaryAccessPass"
    )
    assert "<fieldset disabled>" in agent.page.text and 'id="read-only"' in agent.page.text
    assert ">Save</button>" not in agent.page.text


def test_tap_created_page_shows_the_code_once_and_a_refresh_replaces_nothing(live, seed):
    enable_method(seed.tenant.id, "TemporaryAccessPass")
    agent = admin_agent(live, path=f"/contoso.test/admin/users/{seed.alice.id}")
    assert "/tap/delete" not in agent.page.text  # nothing to delete yet
    agent.submit("/tap", lifetime="90")
    code = re.search(r'id="tap-code"[^>]*>([^<]+)<', agent.page.text).group(1)
    created_url = agent.page.url
    assert re.search(r"/users/[^/]+/tap/[0-9a-f-]{36}$", created_url)  # landed on a GET: refresh cannot re-post
    again = agent.go(created_url)
    assert code not in again.text and 'id="tap-not-shown"' in again.text
    assert db.session.scalar(select(db.func.count()).select_from(TemporaryAccessPass)) == 1
    agent.go(f"/contoso.test/admin/users/{seed.alice.id}")
    assert '<details class="confirm">' in agent.page.text and "Delete this pass?" in agent.text()


def test_console_pages_hold_no_english_in_japanese(live, seed):
    _some_sign_ins(seed)
    enable_method(seed.tenant.id, "TemporaryAccessPass")
    agent = admin_agent(live, lang="ja")
    data = {
        seed.tenant.display_name,
        seed.alice.upn,
        seed.alice.display_name,
        seed.admin.upn,
        "Admin",
        "contoso.test",
        "Web app",
        "SPA",
        "Daemon",
        "日本語",
        "wrong password",
        "mallory@contoso.test",
        "Microsoft Authenticator",
        "Windows Hello for Business",  # a product name
    }
    from idp.audit.models import SignInLog
    from idp.oidc.models import Client

    web_app = db.session.get(Client, seed.client_id)
    signin = db.session.scalar(select(SignInLog.id).where(SignInLog.result == "success").limit(1))
    paths = [
        "/contoso.test/admin/",
        "/contoso.test/admin/users",
        f"/contoso.test/admin/users/{seed.alice.id}",
        "/contoso.test/admin/policies",
        "/contoso.test/admin/policies/TemporaryAccessPass",
        "/contoso.test/admin/policies/Fido2",
        "/contoso.test/admin/policies/Email",
        "/contoso.test/admin/policies/SoftwareOath",
        "/contoso.test/admin/logs/sign-ins",
        f"/contoso.test/admin/logs/sign-ins?id={signin}",
        "/contoso.test/admin/logs/audit",
        "/contoso.test/admin/oath/tokens",
        "/contoso.test/mysecurityinfo/signout",
        "/contoso.test/admin/mfa",
        "/contoso.test/admin/users/invite",
        *(f"/contoso.test/admin/mfa/{name}" for name in (*settings.SECTIONS, "block", "risk")),
        "/contoso.test/admin/locations",
        "/contoso.test/admin/locations/new",
        "/contoso.test/admin/authentication-strengths",
        "/contoso.test/admin/authentication-strengths/new",
        "/contoso.test/admin/authentication-strengths/00000000-0000-0000-0000-000000000002",
        "/contoso.test/admin/apps",
        "/contoso.test/admin/apps/new",
        f"/contoso.test/admin/apps/{web_app.object_id}",
        "/contoso.test/admin/branding",
        "/contoso.test/admin/mfa/voice-messages",
    ]
    for path in paths:
        page = agent.go(path)
        assert page.status_code == 200, (path, page.status_code)
        assert not english_left(page.text, data), (path, english_left(page.text, data))
    agent.go(f"/contoso.test/admin/users/{seed.alice.id}")
    agent.submit("/tap", lifetime="90")
    assert not english_left(agent.page.text, data), english_left(agent.page.text, data)


def test_invite_a_guest_from_the_console(live, seed):
    agent = admin_agent(live, path="/contoso.test/admin/users")
    agent.go("/contoso.test/admin/users/invite")
    agent.submit("/users/invite", address="not-an-address", name="Gail", redirect="https://app.example/")
    assert agent.page.status_code == 400 and 'value="Gail"' in agent.page.text  # kept, with the reason
    agent.submit("/users/invite", address="gail@fabrikam.example", name="Gail", redirect="https://app.example/")
    assert "Invitation created" in agent.text() and "Redeem link: http" in agent.text()
    guest = directory.find_by_sign_in_name(seed.tenant, "gail@fabrikam.example")
    assert guest is not None and guest.is_external_guest and agent.page.url.endswith(f"/users/{guest.id}")
    from idp.audit.models import AuditLog

    assert db.session.scalar(select(AuditLog).where(AuditLog.activity == "Invite external user"))
