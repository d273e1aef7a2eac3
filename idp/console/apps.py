"""The console's App registrations: list, register (name, supported account types, redirect URIs per
platform), client secrets (shown once) and deletion, through the same service as Graph's /applications."""

from datetime import datetime, timedelta

from flask import abort, flash, g, redirect, render_template, request, url_for
from flask import session as flask_session
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from .. import clock, crypto
from ..audit import record_admin_change
from ..directory.service import DirectoryError
from ..extensions import db
from ..graph.access import APP_ADMINS
from ..graph.applications import graph_application
from ..oidc import app_properties
from ..oidc import applications as apps
from ..oidc.models import Client
from . import admin_required, bp
from ..kit.fields import Field, field_error

PLATFORMS = {"web": "redirect_uris", "spa": "spa_redirect_uris", "publicClient": "public_redirect_uris"}
FIELDS = {
    "displayName": Field(_l("Name"), _l("The name users see when they sign in to the application."), "text"),
    "signInAudience": Field(
        _l("Supported account types"),
        _l("Who may sign in to the application."),
        "select",
        options=(
            ("AzureADMyOrg", _l("Accounts in this organizational directory only (single tenant)")),
            ("AzureADMultipleOrgs", _l("Accounts in any organizational directory (multitenant)")),
        ),
    ),
    "web": Field(
        _l("Web redirect URIs, one per line"),
        _l("For server-side web apps that keep a client secret. Use https:// (http://localhost while developing)."),
        "lines",
    ),
    "spa": Field(
        _l("Single-page application redirect URIs, one per line"),
        _l("For apps that run in the browser: sign-in with PKCE, no client secret."),
        "lines",
    ),
    "publicClient": Field(
        _l("Mobile and desktop redirect URIs, one per line"),
        _l("For native apps, such as myapp://auth or http://localhost."),
        "lines",
    ),
    "secretName": Field(_l("Description"), _l("Helps you tell the secrets apart, such as where it is used."), "text"),
    "secretDays": Field(
        _l("Expires"),
        _l("After this the secret no longer signs in; add a new one before then."),
        "select",
        options=(("90", _l("90 days")), ("180", _l("180 days")), ("365", _l("12 months")), ("730", _l("24 months"))),
    ),
}
URI_ERROR = _l(
    "Enter addresses that start with https:// (or http://localhost), without a fragment (#) or wildcard (*)."
)
ERRORS = {
    "displayName": _l("Enter a name of at most 256 characters."),
    "signInAudience": _l("Choose a supported account type."),
    "web": URI_ERROR,
    "spa": URI_ERROR,
    "publicClient": URI_ERROR,
    "secretName": _l("Enter a description of at most 256 characters."),
    "secretDays": _l("Choose when the secret expires."),
    "form": _l("The app registration could not be saved."),
}
READ_ONLY = _l(
    "You can view app registrations. Only an Application Administrator, a Cloud Application Administrator or a "
    "Global Administrator can change them."
)
SHOW_ONCE = "app_secret_show_once"


def _may_edit() -> bool:
    return bool(g.caller.roles & APP_ADMINS)


def _require_edit() -> None:
    if not _may_edit():
        abort(403, description=str(READ_ONLY))


def _client(object_id: str) -> Client:
    client = db.session.scalar(
        select(Client).where(Client.object_id == object_id[:36], Client.tenant_id == g.tenant.id)
    )
    return client or abort(404, description=_("No such app registration."))


def _lines(name: str) -> list[str]:
    return [line.strip() for line in request.form.get(name, "").splitlines() if line.strip()][
        : app_properties.MAX_URIS + 1
    ]


def _entered() -> dict:
    values = {
        "displayName": request.form.get("displayName", "")[:300],
        "signInAudience": request.form.get("signInAudience", "")[:64],
    }
    return values | {platform: _lines(platform) for platform in PLATFORMS}


def _body(entered: dict) -> dict:
    """The form as Graph's application body: the one validation is the service's."""
    body = {"displayName": entered["displayName"], "signInAudience": entered["signInAudience"]}
    return body | {platform: {"redirectUris": entered[platform]} for platform in PLATFORMS}


def _values(client: Client | None) -> dict:
    if client is None:
        return {"displayName": "", "signInAudience": "AzureADMyOrg"} | {p: [] for p in PLATFORMS}
    values = {"displayName": client.name, "signInAudience": client.sign_in_audience}
    return values | {platform: list(getattr(client, column) or []) for platform, column in PLATFORMS.items()}


def _field_of(error: DirectoryError) -> str:
    target = (error.target or "form").split(".")[0]
    return {"passwordCredential": "secretName", "endDateTime": "secretDays"}.get(target, target)


def _page(client: Client | None, values: dict, errors: dict | None = None, secret: dict | None = None):
    return render_template(
        "console/app.html" if client else "console/app_new.html",
        client=client,
        values=values,
        errors=errors or {},
        fields=FIELDS,
        secret=secret,
        secrets=[_listed(c) for c in (client.password_credentials or [])] if client else [],
        may_edit=_may_edit(),
        read_only=READ_ONLY,
    ), (400 if errors else 200)


def _listed(credential: dict) -> dict:
    shown = apps.public_password(credential)
    return shown | {"expires": datetime.fromisoformat(shown["endDateTime"].removesuffix("Z"))}


def _refused(client: Client | None, entered: dict, error: DirectoryError):
    db.session.rollback()
    field = _field_of(error)
    message = field_error(ERRORS.get(field), error)
    return _page(client and db.session.get(Client, client.id), entered, {field if field in ERRORS else "form": message})


@bp.get("/apps")
@admin_required
def app_list():
    found = db.session.scalars(select(Client).where(Client.tenant_id == g.tenant.id).order_by(Client.name, Client.id))
    return render_template("console/apps.html", clients=list(found), may_edit=_may_edit(), read_only=READ_ONLY)


@bp.route("/apps/new", methods=["GET", "POST"])
@admin_required
def new_app():
    if request.method == "GET":
        return _page(None, _values(None))
    _require_edit()
    entered = _entered()
    try:
        client = apps.new_application(g.tenant, _body(entered))
    except DirectoryError as error:
        return _refused(None, entered, error)
    record_admin_change("Add application", "Application", client.object_id, after=graph_application(client))
    db.session.commit()
    flash(_("Application %(name)s registered.", name=client.name), "ok")
    return redirect(url_for("console.app_page", object_id=client.object_id), 303)


@bp.route("/apps/<object_id>", methods=["GET", "POST"])
@admin_required
def app_page(object_id):
    client = _client(object_id)
    if request.method == "GET":
        return _page(client, _values(client), secret=_secret_to_show(client))
    _require_edit()
    entered = _entered()
    before = graph_application(client)
    try:
        app_properties.apply(client, _body(entered))
        db.session.flush()
    except DirectoryError as error:
        return _refused(client, entered, error)
    record_admin_change(
        "Update application", "Application", client.object_id, before=before, after=graph_application(client)
    )
    db.session.commit()
    flash(_("Saved."), "ok")
    return redirect(url_for("console.app_page", object_id=client.object_id), 303)


def _secret_to_show(client: Client) -> dict | None:
    """The secret just added, once: it rides sealed in the session to this one GET; a reload shows it no more."""
    pending = flask_session.pop(SHOW_ONCE, None)
    if not pending or pending.get("app") != client.object_id:
        return None
    text = crypto.unseal(pending["secret"], f"app-secret:{pending['keyId']}").decode()
    return {"keyId": pending["keyId"], "secretText": text}


@bp.post("/apps/<object_id>/secrets")
@admin_required
def add_app_secret(object_id):
    client = _client(object_id)
    _require_edit()
    days = request.form.get("secretDays", "")
    if days not in {value for value, _label in FIELDS["secretDays"].options}:
        return _page(client, _values(client), {"secretDays": _("Choose when the secret expires.")})
    end = clock.iso(clock.now() + timedelta(days=int(days)))
    body = {"passwordCredential": {"displayName": request.form.get("secretName", "")[:300] or None, "endDateTime": end}}
    try:
        credential = apps.add_password(client, body)
    except DirectoryError as error:
        return _refused(client, _values(client), error)
    record_admin_change(
        "Update application – Certificates and secrets management",
        "Application",
        client.object_id,
        after={k: credential[k] for k in ("keyId", "displayName", "endDateTime")},
    )
    db.session.commit()
    key_id = credential["keyId"]
    flask_session[SHOW_ONCE] = {
        "app": client.object_id,
        "keyId": key_id,
        "secret": crypto.seal(credential["secretText"].encode(), f"app-secret:{key_id}"),
    }
    return redirect(url_for("console.app_page", object_id=client.object_id, _anchor="secrets"), 303)


@bp.post("/apps/<object_id>/secrets/<key_id>/delete")
@admin_required
def remove_app_secret(object_id, key_id):
    client = _client(object_id)
    _require_edit()
    _confirmed()
    apps.remove_password(client, key_id[:40])
    record_admin_change(
        "Update application – Certificates and secrets management",
        "Application",
        client.object_id,
        before={"keyId": key_id[:40]},
    )
    db.session.commit()
    flash(_("Client secret removed."), "ok")
    return redirect(url_for("console.app_page", object_id=client.object_id, _anchor="secrets"), 303)


@bp.post("/apps/<object_id>/delete")
@admin_required
def delete_app(object_id):
    client = _client(object_id)
    _require_edit()
    _confirmed()
    name = client.name
    record_admin_change("Delete application", "Application", client.object_id, before=graph_application(client))
    apps.delete_application(client)
    db.session.commit()
    flash(_("Application %(name)s deleted.", name=name), "ok")
    return redirect(url_for("console.app_list"), 303)


def _confirmed() -> None:
    if request.form.get("confirm") != "yes":
        abort(400, description=_("Confirm the deletion first."))
