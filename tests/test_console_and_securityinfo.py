"""The admin console and My Security Info, through their pages."""

import re

from sqlalchemy import select

from idp.audit.models import AuditLog
from idp.directory import service as directory
from idp.directory.models import Roles
from idp.extensions import db
from idp.methods.tap import service as tap_service
from idp.methods.tap.models import TemporaryAccessPass

from .support import PASSWORD, Agent, password_sign_in
from .test_tap_signin import enable_tap, give_tap, tap_sign_in


def console(live, upn, password=PASSWORD, path="/contoso.test/admin/"):
    agent = Agent(live.url)
    agent.go(path)
    password_sign_in(agent, upn, password)
    return agent


def test_console_requires_sign_in_and_an_admin_role(live, seed):
    agent = console(live, "alice@contoso.test")
    assert agent.page.status_code == 403 and "administrator role" in agent.text()
    admin = console(live, "admin@contoso.test", path="/contoso.test/admin/users")
    assert admin.page.status_code == 200 and "alice@contoso.test" in admin.text()


def test_console_creates_a_pass_shows_it_once_and_it_signs_in(live, seed):
    enable_tap(seed.tenant.id)
    admin = console(live, "admin@contoso.test")
    admin.go(f"/contoso.test/admin/users/{seed.alice.id}")
    assert "Add Temporary Access Pass" in admin.text()
    admin.submit("/tap", lifetime="90")
    code = re.search(r'id="tap-code"[^>]*>([^<]+)<', admin.page.text).group(1)
    assert "will not be shown again" in admin.text()
    admin.go(f"/contoso.test/admin/users/{seed.alice.id}")
    assert code not in admin.page.text and "90 minutes" in admin.text()
    assert db.session.scalar(select(AuditLog).where(AuditLog.activity.like("Admin registered temporary%")))
    from .test_tap_signin import start

    rp, agent = start(live, seed)
    tap_sign_in(agent, "alice@contoso.test", code)
    assert "code" in agent.redirect_params()
    admin.submit("/tap/delete")
    db.session.expire_all()
    assert tap_service.live_pass(seed.alice.id) is None


def test_console_applies_the_same_role_rules(live, seed):
    directory.create_user(seed.tenant, "aa@contoso.test", "AA", "pw-aa-1234", [Roles.AUTH_ADMIN])
    db.session.commit()
    agent = console(live, "aa@contoso.test", "pw-aa-1234")
    agent.go(f"/contoso.test/admin/users/{seed.admin.id}")
    assert "can't view this user's authentication methods" in agent.text()
    agent.go(f"/contoso.test/admin/users/{seed.alice.id}")
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', agent.page.text).group(1)
    refused = agent.http.post(f"{live.url}/contoso.test/admin/users/{seed.admin.id}/tap", data={"csrf_token": csrf})
    assert refused.status_code == 403 and db.session.scalar(select(TemporaryAccessPass)) is None


def test_policy_page_saves_for_policy_admins_only(live, seed):
    directory.create_user(seed.tenant, "apa@contoso.test", "APA", "pw-apa-123", [Roles.AUTH_POLICY_ADMIN])
    directory.create_user(seed.tenant, "paa@contoso.test", "PAA", "pw-paa-123", [Roles.PRIVILEGED_AUTH_ADMIN])
    db.session.commit()
    apa = console(live, "apa@contoso.test", "pw-apa-123", "/contoso.test/admin/policies/TemporaryAccessPass")
    apa.submit(
        "",
        state="enabled",
        defaultLength="12",
        minimumLifetimeInMinutes="60",
        maximumLifetimeInMinutes="480",
        defaultLifetimeInMinutes="60",
    )
    assert "Saved." in apa.text()
    from idp.policy import service as policy

    db.session.expire_all()
    config = policy.get(seed.tenant.id, "TemporaryAccessPass")
    assert config.state == "enabled" and config.settings["defaultLength"] == 12
    apa.submit(
        "",
        state="enabled",
        defaultLength="49",
        minimumLifetimeInMinutes="60",
        maximumLifetimeInMinutes="480",
        defaultLifetimeInMinutes="60",
    )
    assert apa.page.status_code == 400 and "Enter a whole number in the range shown" in apa.text()
    paa = console(live, "paa@contoso.test", "pw-paa-123", "/contoso.test/admin/policies/TemporaryAccessPass")
    assert "Only an Authentication Policy Administrator" in paa.text()
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', paa.page.text).group(1)
    refused = paa.http.post(paa.page.url, data={"csrf_token": csrf, "state": "disabled"})
    assert refused.status_code == 403


def test_my_security_info_lists_the_pass_and_warns_when_it_is_the_only_method(live, seed):
    enable_tap(seed.tenant.id)
    newcomer = directory.create_user(seed.tenant, "new@contoso.test", "Newcomer")
    db.session.commit()
    tap, code = give_tap(newcomer, lifetime=120)
    agent = Agent(live.url)
    agent.go("/contoso.test/mysecurityinfo/")
    tap_sign_in(agent, "new@contoso.test", code)
    assert "Security info" in agent.text() and "Temporary Access Pass" in agent.text()
    assert "only way to sign in" in agent.text()
    from babel.dates import format_datetime

    assert format_datetime(tap.ends_at, "medium", locale="en").replace("\u202f", " ") in agent.text()  # page locale
    # alice has a password too: no banner
    give_tap(seed.alice)
    other = Agent(live.url)
    other.go("/contoso.test/mysecurityinfo/")
    password_sign_in(other, "alice@contoso.test")
    assert "Temporary Access Pass" in other.text() and "only way to sign in" not in other.text()
    other.submit("/mysecurityinfo/tap/delete")
    assert "Temporary Access Pass" not in other.text()
    db.session.expire_all()
    assert tap_service.live_pass(seed.alice.id) is None
