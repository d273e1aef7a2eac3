"""The console's log pages: first-party apps named in the sign-in log, paging and filters done in SQL, and the
export of both logs."""

from idp import i18n
from idp.audit import first_party, record_audit, record_signin
from idp.extensions import db

from .support import Agent, password_sign_in
from .test_console_pages import admin_agent

SIGN_INS = "/contoso.test/admin/logs/sign-ins"


def test_a_sign_in_is_logged_for_the_first_party_page_it_returns_to():
    assert first_party.app_id_for(None, "/contoso.test/admin/users?") == first_party.ADMIN_CONSOLE
    assert first_party.app_id_for(None, "/contoso.test/mysecurityinfo/") == first_party.MY_SECURITY_INFO
    assert first_party.app_id_for(None, "/contoso.test/administrators") is None
    assert first_party.app_id_for("client-1", "/contoso.test/admin/") == "client-1"
    assert first_party.app_id_for(None, None) is None


def test_sign_ins_to_the_console_and_my_security_info_name_their_app(live, seed):
    user = Agent(live.url)
    user.go("/contoso.test/mysecurityinfo/")
    password_sign_in(user, "alice@contoso.test")
    agent = admin_agent(live, path="/contoso.test/admin/users")
    records = agent.http.get(f"{live.url}{SIGN_INS}?format=json").json()["value"]
    assert {(r["userPrincipalName"], r["appDisplayName"]) for r in records} == {
        ("alice@contoso.test", "My Security Info"),
        ("admin@contoso.test", "Admin console"),
    }
    agent.go(f"{SIGN_INS}?app={first_party.ADMIN_CONSOLE}")
    assert ">Admin console</td>" in agent.page.text and "alice@contoso.test" not in agent.text()
    agent.http.cookies.set(i18n.COOKIE, "ja")
    agent.go(f"{SIGN_INS}?app={first_party.MY_SECURITY_INFO}")
    assert ">セキュリティ情報</td>" in agent.page.text and "admin@contoso.test</td>" not in agent.page.text


def _sign_ins(seed, count: int, methods: list[str], upn: str) -> None:
    for _ in range(count):
        record_signin(tenant_id=seed.tenant.id, result="success", upn=upn, methods=methods)
    db.session.commit()


def test_the_method_filter_and_paging_happen_before_the_page_is_cut(live, seed):
    _sign_ins(seed, 60, ["password", "oath"], "oath@contoso.test")
    _sign_ins(seed, 60, ["password"], "plain@contoso.test")
    _sign_ins(seed, 3, ["password", "emailXotp"], "lookalike@contoso.test")  # `_` in a name is no wildcard
    _sign_ins(seed, 2, ["password", "email_otp"], "email@contoso.test")
    agent = admin_agent(live)
    agent.go(f"{SIGN_INS}?method=oath")
    assert agent.page.text.count(">oath@contoso.test</td>") == 50 and "plain@contoso.test" not in agent.text()
    assert ">Next page</a>" in agent.page.text
    agent.go(f"{SIGN_INS}?method=oath&page=2")
    assert agent.page.text.count(">oath@contoso.test</td>") == 10 and ">Next page</a>" not in agent.page.text
    exported = agent.http.get(f"{live.url}{SIGN_INS}?format=json&method=email_otp").json()["value"]
    assert {r["userPrincipalName"] for r in exported} == {"email@contoso.test"} and len(exported) == 2
    agent.go(f"{SIGN_INS}?user=plain&page=2")
    assert agent.page.text.count(">plain@contoso.test</td>") == 10


def test_the_audit_log_pages_in_sql_and_names_its_actors(live, seed):
    for number in range(55):
        record_audit(
            tenant_id=seed.tenant.id, actor_id=seed.admin.id, actor_type="user", activity=f"Change {number:02d}"
        )
    db.session.commit()
    agent = admin_agent(live)
    agent.go("/contoso.test/admin/logs/audit?activity=Change")
    assert agent.page.text.count(">Change ") == 50 and ">Next page</a>" in agent.page.text
    assert "admin@contoso.test" in agent.text()
    agent.go("/contoso.test/admin/logs/audit?activity=Change&page=2")
    assert agent.page.text.count(">Change ") == 5 and ">Next page</a>" not in agent.page.text
    exported = agent.http.get(f"{live.url}/contoso.test/admin/logs/audit?format=json&activity=Change").json()
    assert len(exported["value"]) == 55 and {r["initiatedBy"] for r in exported["value"]} == {"admin@contoso.test"}


def test_failure_reasons_are_stored_in_english_and_shown_in_the_readers_language(live, seed):
    user = Agent(live.url)
    user.go("/contoso.test/mysecurityinfo/")
    user.submit("/login", username="alice@contoso.test")
    user.submit("/login/method/password", password="not her password")
    record_signin(tenant_id=seed.tenant.id, result="failure", upn="bob@contoso.test", failure_reason="unknown user")
    record_signin(
        tenant_id=seed.tenant.id,
        result="failure",
        upn="carol@contoso.test",
        failure_reason="invalid SMS code: That code is not correct. Check the latest text message we sent and try again.",
    )
    db.session.commit()
    agent = admin_agent(live, lang="ja")
    dashboard = agent.text()
    assert "パスワードが正しくありません" in dashboard and "不明なユーザー" in dashboard
    assert "SMS のコードが正しくありません: " in dashboard
    assert "invalid password" not in dashboard and "unknown user" not in dashboard and "invalid SMS" not in dashboard
    exported = agent.http.get(f"{live.url}{SIGN_INS}?format=json&user=alice").json()["value"]
    assert [(r["result"], r["reason"]) for r in exported] == [("failure", "invalid password")]
    agent.go(f"{SIGN_INS}?user=alice&id={exported[0]['id']}")
    assert "未完了: パスワードが正しくありません" in agent.text() and "invalid password" not in agent.text()


def test_a_dated_refusal_in_the_sign_in_log_reads_in_japanese(app):
    """The log stores the English text with its date; the page finds the registered sentence again."""
    from datetime import datetime

    from idp.audit import reasons
    from idp.i18n.names import Message
    from idp.methods.tap import service as tap_service

    stored = str(Message(tap_service.EXPIRED, date=datetime(2026, 12, 1, 9, 30)))
    assert stored.startswith("This Temporary Access Pass expired on 2026-12-01T09:30:00Z.")
    from flask_babel import force_locale

    with app.test_request_context(), force_locale("ja"):
        shown = reasons.shown(stored)
    assert "2026-12-01T09:30:00Z" in shown and "Temporary Access Pass expired" not in shown


def test_the_sign_in_list_has_a_failure_reason_column_in_the_readers_language(live, seed):
    record_signin(tenant_id=seed.tenant.id, result="failure", upn="bob@contoso.test", failure_reason="unknown user")
    record_signin(tenant_id=seed.tenant.id, result="failure", upn="dave@contoso.test")
    record_signin(
        tenant_id=seed.tenant.id,
        result="success",
        upn="carol@contoso.test",
        methods=["password"],
        failure_reason="MFA not required",  # a success's note belongs to the detail pane, not this column
    )
    db.session.commit()
    agent = admin_agent(live, lang="ja")
    agent.go(SIGN_INS)
    page = agent.page.text
    assert '<th scope="col">失敗の理由</th>' in page
    rows = {
        row.split('data-label="ユーザー">', 1)[1].split("<", 1)[0]: row
        for row in page.split("<tr ")[1:]
        if 'data-label="ユーザー">' in row
    }
    reason = 'data-label="失敗の理由" class="reason">'
    assert f"{reason}不明なユーザー</td>" in rows["bob@contoso.test"]
    assert f"{reason}理由の記録なし</td>" in rows["dave@contoso.test"]
    assert (
        f'{reason}<span aria-hidden="true">—</span><span class="visually-hidden">なし</span></td>'
        in rows["carol@contoso.test"]
    )
    assert "unknown user" not in agent.text() and "MFA not required" not in agent.text()
