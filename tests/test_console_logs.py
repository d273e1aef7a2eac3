"""The console's log pages: first-party apps named in the sign-in log, paging and filters done in SQL, and the
export of both logs."""

from idp import i18n
from idp.audit import first_party

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
    assert "<td>Admin console</td>" in agent.page.text and "alice@contoso.test" not in agent.text()
    agent.http.cookies.set(i18n.COOKIE, "ja")
    agent.go(f"{SIGN_INS}?app={first_party.MY_SECURITY_INFO}")
    assert "<td>セキュリティ情報</td>" in agent.page.text and "admin@contoso.test</td>" not in agent.page.text
