"""Company branding: set through Graph (organizationalBranding) or the console, shown on that tenant's sign-in
pages only; bad colours, texts and logos get Graph's 400, and SVG is refused."""

import struct
import zlib

import pytest

from idp.directory import service as directory
from idp.extensions import db

from .support import PASSWORD, Agent, GraphClient, app_client, app_token, password_sign_in

TEXT = "Welcome to Contoso <script>alert(1)</script>\nHelp desk: 1234"


def png(width: int, height: int) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    rows = b"".join(b"\x00" + b"\x00\x78\xd4" * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")


def jpeg(width: int, height: int) -> bytes:
    """Enough of a JPEG for its size to be read (SOI, APP0, SOF0)."""
    app0 = b"\xff\xe0" + struct.pack(">H", 16) + b"JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"
    sof0 = b"\xff\xc0" + struct.pack(">HBHHB", 11, 8, height, width, 1) + b"\x01\x11\x00"
    return b"\xff\xd8" + app0 + sof0 + b"\xff\xd9"


@pytest.fixture
def graph(live, seed):
    client_id, secret = app_client(seed.tenant, ["OrganizationalBranding.ReadWrite.All"])
    return GraphClient(live.url, app_token(live.url, "contoso.test", client_id, secret))


@pytest.fixture
def fabrikam(app, seed):
    tenant = directory.create_tenant("Fabrikam", ["fabrikam.test"])
    db.session.commit()
    return tenant


def sign_in_page(live, tenant_ref: str) -> Agent:
    agent = Agent(live.url)
    agent.go(f"/{tenant_ref}/login/")
    assert agent.page.status_code == 200, agent.page.text[:500]
    return agent


def brand(live, seed, graph):
    path = f"/organization/{seed.tenant.id}/branding"
    body = {"backgroundColor": "#0B5CAD", "signInPageText": TEXT, "usernameHintText": "you@contoso.example"}
    assert graph("PATCH", path, body).status_code == 204
    logo = png(200, 30)
    put = graph("PUT", f"{path}/localizations/0/bannerLogo", data=logo, headers={"Content-Type": "image/png"})
    assert put.status_code == 204, put.text
    return logo


def test_branding_through_graph_shows_on_that_tenants_sign_in_pages_only(live, seed, graph, fabrikam):
    path = f"/organization/{seed.tenant.id}/branding"
    assert graph("GET", path).status_code == 404  # nothing configured yet
    logo = brand(live, seed, graph)
    read = graph("GET", path).json()
    assert (read["backgroundColor"], read["signInPageText"], read["usernameHintText"]) == (
        "#0B5CAD",
        TEXT,
        "you@contoso.example",
    )
    assert graph("GET", f"{path}/bannerLogo").content == logo
    page = sign_in_page(live, "contoso.test").page
    assert 'class="banner-logo"' in page.text and "/contoso.test/branding/bannerlogo" in page.text
    assert 'placeholder="you@contoso.example"' in page.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text and "<script>alert(" not in page.text
    assert '<body class="branded">' in page.text and "/contoso.test/branding/style.css" in page.text
    served = requests_get(live, "/contoso.test/branding/bannerlogo")
    assert served.content == logo and served.headers["Content-Type"] == "image/png"
    assert (
        served.headers["X-Content-Type-Options"] == "nosniff" and "sandbox" in served.headers["Content-Security-Policy"]
    )
    assert "background-color: #0B5CAD" in requests_get(live, "/contoso.test/branding/style.css").text
    other = sign_in_page(live, "fabrikam.test").page.text
    assert "banner-logo" not in other and "Welcome to Contoso" not in other and 'class="branded"' not in other
    assert requests_get(live, "/fabrikam.test/branding/bannerlogo").status_code == 404
    agent = Agent(live.url)  # My Security Info is not a sign-in page: no branding there
    agent.go("/contoso.test/mysecurityinfo/")
    password_sign_in(agent, "alice@contoso.test")
    assert "Security info" in agent.text() and "Welcome to Contoso" not in agent.text()
    assert graph("DELETE", f"{path}/bannerLogo").status_code == 204
    assert "banner-logo" not in sign_in_page(live, "contoso.test").page.text


def requests_get(live, path):
    import requests

    return requests.get(live.url + path)


SVG = b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"><script>alert(2)</script></svg>'


@pytest.mark.parametrize(
    "logo",
    [
        SVG,
        b"GIF89a" + b"\x00" * 20,
        png(300, 30),
        png(200, 40),
        jpeg(400, 30),
        png(200, 30) + b"\x00" * 60_000,
        b"",
        png(200, 30)[:16],  # red team: a PNG cut after its IHDR tag was a 500 (its size could not be read)
        png(200, 30)[:20],
    ],
    ids=["svg", "gif", "too-wide", "too-tall", "jpeg-too-wide", "too-large", "empty", "png-cut", "png-cut-size"],
)
def test_bad_logos_are_refused(live, seed, graph, logo):
    put = graph(
        "PUT", f"/organization/{seed.tenant.id}/branding/bannerLogo", data=logo, headers={"Content-Type": "image/png"}
    )
    assert put.status_code == 400 and put.json()["error"]["code"] == "BadRequest", put.text
    assert requests_get(live, "/contoso.test/branding/bannerlogo").status_code == 404


def test_a_small_jpeg_is_accepted(live, seed, graph):
    put = graph("PUT", f"/organization/{seed.tenant.id}/branding/bannerLogo", data=jpeg(120, 20))
    assert put.status_code == 204, put.text
    assert requests_get(live, "/contoso.test/branding/bannerlogo").headers["Content-Type"] == "image/jpeg"


@pytest.mark.parametrize(
    "body",
    [
        {"backgroundColor": "red"},
        {"backgroundColor": "#12345G"},
        {"backgroundColor": "#fff;}body{x"},
        {"signInPageText": "x" * 1025},
        {"usernameHintText": "y" * 65},
        {"signInPageText": "bell\x07"},
        {"signInPageText": 42},
        {"squareLogoRelativeUrl": "x"},
    ],
)
def test_bad_properties_get_graphs_400(live, seed, graph, body):
    patched = graph("PATCH", f"/organization/{seed.tenant.id}/branding", body)
    assert patched.status_code == 400 and patched.json()["error"]["code"] == "BadRequest", patched.text


def test_other_organizations_and_roles(live, seed, graph, fabrikam):
    assert graph("GET", f"/organization/{fabrikam.id}/branding").status_code == 404
    assert graph("PATCH", f"/organization/{fabrikam.id}/branding", {"backgroundColor": "#000000"}).status_code == 404
    reader_id, reader_secret = app_client(seed.tenant, ["User.Read.All"])
    reader = GraphClient(live.url, app_token(live.url, "contoso.test", reader_id, reader_secret))
    refused = reader("PATCH", f"/organization/{seed.tenant.id}/branding", {"backgroundColor": "#000000"})
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "Authorization_RequestDenied"


def console_agent(live, upn="admin@contoso.test") -> Agent:
    agent = Agent(live.url)
    agent.go("/contoso.test/admin/branding")
    password_sign_in(agent, upn, PASSWORD)
    agent.go("/contoso.test/admin/branding")
    assert agent.page.status_code == 200, agent.page.text[:300]
    return agent


def post_form(agent: Agent, fields: dict, files=None):
    from .support import forms

    form = next(f for f in forms(agent.page.text) if "/admin/branding" in f["action"])
    return agent.http.post(
        agent.page.url, data={**form["fields"], **fields}, files=files, headers={"Referer": agent.page.url}
    )


def test_console_page_sets_branding_and_keeps_refused_input(live, seed):
    agent = console_agent(live)
    refused = post_form(agent, {"backgroundColor": "blue", "signInPageText": "Kept text"})
    assert refused.status_code == 400
    assert "Enter a colour in hexadecimal form" in refused.text and "Kept text" in refused.text
    svg = post_form(agent, {"backgroundColor": ""}, files={"bannerLogo": ("logo.svg", SVG, "image/png")})
    assert svg.status_code == 400 and "SVG is not accepted" in svg.text
    saved = post_form(
        agent,
        {"backgroundColor": "#2E8B57", "signInPageText": "Hello", "usernameHintText": ""},
        files={"bannerLogo": ("logo.png", png(100, 20), "image/png")},
    )
    assert saved.status_code == 200 and saved.history and saved.history[0].status_code == 303
    assert "Company branding saved." in saved.text
    page = sign_in_page(live, "contoso.test").page.text
    assert "banner-logo" in page and "Hello" in page


def test_console_branding_is_read_only_without_global_admin(live, seed):
    from idp.directory.models import Roles

    directory.create_user(seed.tenant, "reader@contoso.test", "Reader", PASSWORD, [Roles.GLOBAL_READER])
    db.session.commit()
    agent = console_agent(live, "reader@contoso.test")
    assert "Only a Global Administrator can change it." in agent.text() and "<fieldset disabled" in agent.page.text
    refused = post_form(agent, {"backgroundColor": "#000000"})
    assert refused.status_code == 403


@pytest.mark.browser
def test_chromium_shows_the_branding_under_the_pages_csp(live, seed, graph, fabrikam, browser):
    from selenium.webdriver.common.by import By

    from .browser import screenshot

    brand(live, seed, graph)
    browser.get(f"{live.url}/contoso.test/login/")
    logo = browser.find_element(By.CSS_SELECTOR, "img.banner-logo")
    assert browser.execute_script("return arguments[0].complete && arguments[0].naturalWidth", logo) == 200
    background = browser.execute_script("return getComputedStyle(document.body).backgroundColor")
    assert background == "rgb(11, 92, 173)"  # #0B5CAD, from the tenant's stylesheet
    assert "<script>alert(1)</script>" in browser.find_element(By.ID, "sign-in-page-text").text  # shown as text
    assert browser.find_element(By.ID, "username").get_attribute("placeholder") == "you@contoso.example"
    screenshot(browser, "signin-branded")
    browser.get(f"{live.url}/fabrikam.test/login/")
    assert not browser.find_elements(By.CSS_SELECTOR, "img.banner-logo")
    assert browser.execute_script("return getComputedStyle(document.body).backgroundColor") != background
