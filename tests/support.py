"""Test helpers: seeded directory data, and a form-driving user agent for the HTML sign-in pages."""

import html
import re
from dataclasses import dataclass
from html.parser import HTMLParser
from urllib.parse import parse_qs, urljoin, urlsplit

import requests

from idp.directory import service as directory
from idp.directory.models import Roles
from idp.extensions import db
from idp.oidc import keys
from idp.oidc.clients import create_client

PASSWORD = "correct horse battery staple"
REDIRECT = "http://127.0.0.1:9/callback"  # never contacted: the test reads the redirect itself


def pg_available(url: str) -> bool:
    try:
        import psycopg

        dsn = url.replace("postgresql+psycopg://", "postgresql://")
        psycopg.connect(dsn, connect_timeout=2).close()
        return True
    except Exception:
        return False


@dataclass
class Seed:
    tenant: object
    alice: object
    admin: object
    client_id: str
    client_secret: str
    public_client_id: str
    app_client_id: str
    app_client_secret: str

    @classmethod
    def create(cls, app) -> "Seed":
        keys.ensure_keys()
        tenant = directory.create_tenant("Contoso", ["contoso.test", "contoso.example"])
        alice = directory.create_user(tenant, "alice@contoso.test", "Alice Example", PASSWORD)
        admin = directory.create_user(tenant, "admin@contoso.test", "Admin", PASSWORD, [Roles.GLOBAL_ADMIN])
        web, secret = create_client(tenant, "Web app", [REDIRECT], post_logout=["http://127.0.0.1:9/signed-out"])
        spa, _ = create_client(tenant, "SPA", [REDIRECT], public=True)
        daemon, daemon_secret = create_client(
            tenant, "Daemon", [], grants=["client_credentials"], permissions=["User.Read.All"]
        )
        db.session.commit()
        return cls(tenant, alice, admin, web.id, secret, spa.id, daemon.id, daemon_secret)


class _Forms(HTMLParser):
    def __init__(self):
        super().__init__()
        self.forms, self._current = [], None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form":
            self._current = {
                "action": attrs.get("action", ""),
                "method": attrs.get("method", "get"),
                "fields": {},
                "buttons": [],
            }
            self.forms.append(self._current)
        elif self._current is not None and tag == "input" and attrs.get("name"):
            if attrs.get("type") not in ("checkbox", "radio") or "checked" in attrs:
                self._current["fields"][attrs["name"]] = attrs.get("value", "")
        elif self._current is not None and tag == "button" and attrs.get("name"):
            self._current["buttons"].append((attrs["name"], attrs.get("value", "")))

    def handle_endtag(self, tag):
        if tag == "form":
            self._current = None


def forms(html: str) -> list[dict]:
    parser = _Forms()
    parser.feed(html)
    return parser.forms


class Agent:
    """A browser without JavaScript: follows redirects on this server and fills in forms."""

    def __init__(self, base: str, stop_at: str = REDIRECT):
        self.base, self.stop_at = base, stop_at
        self.http = requests.Session()
        self.page: requests.Response | None = None

    def go(self, url: str, method: str = "get", data=None) -> requests.Response:
        """Request `url` and follow redirects until a page, or until the client's redirect URI."""
        headers = {"Referer": self.page.url} if self.page is not None and method != "get" else {}
        response = self.http.request(method, urljoin(self.base, url), data=data, allow_redirects=False, headers=headers)
        while response.is_redirect:
            location = urljoin(response.url, response.headers["Location"])
            if location.startswith(self.stop_at) or not location.startswith(self.base):
                self.page = response
                return response
            response = self.http.get(location, allow_redirects=False)
        self.page = response
        return response

    def submit(self, action_contains: str = "", **fields) -> requests.Response:
        """Submit the first form whose action contains `action_contains`, with `fields` filled in."""
        for form in forms(self.page.text):
            if action_contains in form["action"]:
                data = {**form["fields"], **fields}
                return self.go(urljoin(self.page.url, form["action"]), form["method"], data)
        raise AssertionError(
            f"no form with action containing {action_contains!r} on {self.page.url}:\n{self.page.text[:2000]}"
        )

    @property
    def location(self) -> str:
        return self.page.headers.get("Location", "")

    def redirect_params(self) -> dict:
        return {k: v[0] for k, v in parse_qs(urlsplit(self.location).query).items()}

    def text(self) -> str:
        return html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", self.page.text)))


def password_sign_in(agent: Agent, upn: str, password: str = PASSWORD, stay: str = "no") -> Agent:
    """From an authorize URL already opened by `agent`: UPN -> password -> stay signed in."""
    agent.submit("/login", username=upn)
    if "/login/method/" in agent.page.url and not agent.page.url.endswith("/method/password"):
        agent.go(agent.page.url.rsplit("/method/", 1)[0] + "/method/password")  # chosen under "Other ways"
    agent.submit("/login/method/password", password=password)
    agent.submit("/login/kmsi", stay=stay)
    return agent


GRAPH_SCOPES = [
    "UserAuthenticationMethod.ReadWrite.All",
    "UserAuthenticationMethod.Read.All",
    "Policy.ReadWrite.AuthenticationMethod",
    "Policy.Read.All",
    "User.Read.All",
    "User.Invite.All",
    "UserAuthenticationMethod.ReadWrite",
    "User.Read",
    "Policy.ReadWrite.ConditionalAccess",
    "IdentityRiskEvent.Read.All",
    "IdentityRiskyUser.ReadWrite.All",
]
#: the directory's delegated permissions (users, groups, apps, roles, logs)
DIRECTORY_SCOPES = [
    "User.ReadWrite.All",
    "Group.ReadWrite.All",
    "Application.ReadWrite.All",
    "AppRoleAssignment.ReadWrite.All",
    "DelegatedPermissionGrant.ReadWrite.All",
    "AuditLog.Read.All",
    "RoleManagement.ReadWrite.Directory",
    "Directory.Read.All",
    "UserAuthenticationMethod.ReadWrite.All",
    "offline_access",
]


def enable_method(tenant_id, method_id, **settings):
    """Turn on a method configuration of the authentication methods policy, with optional settings."""
    from idp.extensions import db
    from idp.policy import service as policy

    config = policy.get(tenant_id, method_id)
    config.state = "enabled"
    config.settings.update(settings)
    policy.save(tenant_id, config)
    db.session.commit()


class GraphClient:
    """Calls the admin API with a bearer token, as a Graph SDK would."""

    def __init__(self, base: str, token: str, version: str = "v1.0"):
        self.base, self.version = base, version
        self.http = requests.Session()
        self.http.headers["Authorization"] = f"Bearer {token}"

    def __call__(self, method: str, path: str, json=None, version: str | None = None, **kwargs) -> requests.Response:
        return self.http.request(method, f"{self.base}/{version or self.version}{path}", json=json, **kwargs)


def admin_tool(tenant) -> tuple[str, str]:
    """A confidential client that may ask for delegated Graph permissions."""
    client, secret = create_client(tenant, "Admin tool", [REDIRECT], scopes=GRAPH_SCOPES)
    db.session.commit()
    return client.id, secret


def delegated_token(
    base: str,
    tenant_ref: str,
    client: tuple[str, str],
    upn: str,
    password: str = PASSWORD,
    scope: str = "openid https://graph.microsoft.com/.default",
) -> str:
    """Sign `upn` in through the pages and redeem the code with Authlib's client."""
    return delegated_sign_in(base, tenant_ref, client, upn, password, scope)[0]["access_token"]


def delegated_sign_in(
    base: str,
    tenant_ref: str,
    client: tuple[str, str],
    upn: str,
    password: str = PASSWORD,
    scope: str = "openid https://graph.microsoft.com/.default",
) -> tuple[dict, "Agent"]:
    """Sign `upn` in through the pages; the token response and the browser (holding its SSO cookie)."""
    from authlib.common.security import generate_token
    from authlib.integrations.requests_client import OAuth2Session
    from authlib.oauth2.rfc7636 import create_s256_code_challenge

    oauth = OAuth2Session(client[0], client[1], scope=scope, redirect_uri=REDIRECT)
    verifier = generate_token(64)
    url, _ = oauth.create_authorization_url(
        f"{base}/{tenant_ref}/oauth2/v2.0/authorize",
        code_challenge=create_s256_code_challenge(verifier),
        code_challenge_method="S256",
    )
    agent = Agent(base)
    agent.go(url)
    password_sign_in(agent, upn, password)
    code = agent.redirect_params()["code"]
    token = oauth.fetch_token(f"{base}/{tenant_ref}/oauth2/v2.0/token", code=code, code_verifier=verifier)
    return dict(token), agent


def app_token(base: str, tenant_ref: str, client_id: str, secret: str) -> str:
    response = requests.post(
        f"{base}/{tenant_ref}/oauth2/v2.0/token",
        data={"grant_type": "client_credentials", "scope": "https://graph.microsoft.com/.default"},
        auth=(client_id, secret),
    )
    response.raise_for_status()
    return response.json()["access_token"]


def app_client(tenant, permissions) -> tuple[str, str]:
    client, secret = create_client(
        tenant,
        ("Automation " + "+".join(permissions))[:256],
        [],
        grants=["client_credentials"],
        permissions=permissions,
    )
    db.session.commit()
    return client.id, secret
