"""`flask idp ...`: automation for tenants, users, groups, clients and keys. Every command takes --json."""

import json
import os

import click
from flask.cli import AppGroup
from sqlalchemy import select

from . import clock
from .directory import service as directory
from .directory.models import Roles, User
from .audit import record_admin_change
from .extensions import db
from .oidc import keys
from .oidc.clients import create_client
from .oidc.models import Client
from .policy import service as policy

idp_cli = AppGroup("idp", help="Identity provider administration.")
DEMO_USERS = [
    ("admin@contoso.test", "Contoso Admin", "Contoso-Admin-1", [Roles.GLOBAL_ADMIN]),
    ("alice@contoso.test", "Alice Example", "Contoso-Alice-1", []),
]


def _emit(as_json: bool, data: dict, text: str) -> None:
    click.echo(json.dumps(data, indent=2) if as_json else text)


def _tenant_or_fail(ref: str):
    tenant = directory.find_tenant(ref)
    if tenant is None:
        raise click.ClickException(f"no tenant {ref!r}")
    return tenant


@idp_cli.command("create-tenant")
@click.option("--name", required=True)
@click.option("--domain", "domains", multiple=True, required=True, help="Verified domain (repeatable).")
@click.option("--json", "as_json", is_flag=True)
def create_tenant_cmd(name, domains, as_json):
    for domain in domains:
        if directory.find_tenant(domain):
            raise click.ClickException(f"domain {domain} is already verified by a tenant")
    tenant = directory.create_tenant(name, list(domains))
    record_admin_change(
        "Add tenant", "tenant", tenant.id, after={"displayName": name, "domains": list(domains)}, tenant_id=tenant.id
    )
    db.session.commit()
    _emit(as_json, {"id": tenant.id, "displayName": name, "domains": list(domains)}, f"tenant {tenant.id} ({name})")


@idp_cli.command("create-user")
@click.option("--tenant", required=True)
@click.option("--upn", required=True)
@click.option("--name", "display_name")
@click.option("--password")
@click.option("--role", "roles", multiple=True, type=click.Choice(Roles.ALL))
@click.option("--group", "groups", multiple=True, help="Group name or id (repeatable).")
@click.option("--guest", type=click.Choice(["internal", "external"]))
@click.option("--json", "as_json", is_flag=True)
def create_user_cmd(tenant, upn, display_name, password, roles, groups, guest, as_json):
    tenant = _tenant_or_fail(tenant)
    if db.session.scalar(select(User).where(User.upn == upn.lower())):
        raise click.ClickException(f"user {upn} exists")
    found = []
    for ref in groups:
        group = directory.find_group(tenant, ref)
        if group is None:
            raise click.ClickException(f"no group {ref!r} in this tenant")
        found.append(group)
    try:
        user = directory.create_user(tenant, upn, display_name, password, list(roles), found, guest)
    except ValueError as error:
        raise click.ClickException(str(error)) from None
    record_admin_change(
        "Add user",
        "user",
        user.id,
        after={"userPrincipalName": user.upn, "roles": sorted(roles), "groups": [g.id for g in found], "guest": guest},
        tenant_id=tenant.id,
    )
    db.session.commit()
    _emit(
        as_json,
        {"id": user.id, "userPrincipalName": user.upn, "userType": user.user_type, "roles": sorted(roles)},
        f"user {user.id} ({user.upn})",
    )


@idp_cli.command("update-user")
@click.option("--tenant", required=True)
@click.option("--upn", required=True)
@click.option("--enable/--disable", "enabled", default=None, help="accountEnabled; disabling ends sessions and tokens")
@click.option("--force-password-change", is_flag=True, help="forceChangePasswordNextSignIn at the next sign-in")
@click.option("--revoke-sessions", is_flag=True, help="revokeSignInSessions: sign the user out everywhere")
@click.option("--json", "as_json", is_flag=True)
def update_user_cmd(tenant, upn, enabled, force_password_change, revoke_sessions, as_json):
    """Change a user as PATCH /users/{id} and revokeSignInSessions do (the same service)."""
    tenant = _tenant_or_fail(tenant)
    user = directory.find_user(tenant, upn)
    if user is None:
        raise click.ClickException(f"no user {upn!r} in this tenant")
    body = {}
    if enabled is not None:
        body["accountEnabled"] = enabled
    if force_password_change:
        body["passwordProfile"] = {"forceChangePasswordNextSignIn": True}
    try:
        changes = directory.update_user(user, body)
    except directory.DirectoryError as error:
        raise click.ClickException(error.message) from None
    if changes:
        record_admin_change(
            "Update user", "User", user.id, after={k: v[1] for k, v in changes.items()}, tenant_id=tenant.id
        )
    if revoke_sessions:
        directory.revoke_sign_in_sessions(user)
        record_admin_change("Revoke sign-in sessions", "User", user.id, tenant_id=tenant.id)
    db.session.commit()
    _emit(
        as_json,
        {
            "id": user.id,
            "userPrincipalName": user.upn,
            "accountEnabled": user.account_enabled,
            "forceChangePasswordNextSignIn": user.force_change_password,
            "signInSessionsValidFromDateTime": clock.iso(user.sessions_valid_from),
        },
        f"updated {user.upn}",
    )


@idp_cli.command("create-group")
@click.option("--tenant", required=True)
@click.option("--name", required=True)
@click.option("--member", "members", multiple=True, help="UPN or id of a member (repeatable).")
@click.option("--json", "as_json", is_flag=True)
def create_group_cmd(tenant, name, members, as_json):
    tenant = _tenant_or_fail(tenant)
    group = directory.create_group(tenant, name)
    for ref in members:
        user = directory.find_user(tenant, ref)
        if user is None:
            raise click.ClickException(f"no user {ref!r} in this tenant")
        directory.add_member(group, user)
    record_admin_change(
        "Add group", "group", group.id, after={"displayName": name, "members": list(members)}, tenant_id=tenant.id
    )
    db.session.commit()
    _emit(as_json, {"id": group.id, "displayName": name}, f"group {group.id} ({name})")


@idp_cli.command("create-client")
@click.option("--tenant", required=True)
@click.option("--name", required=True)
@click.option("--redirect-uri", "redirect_uris", multiple=True)
@click.option("--post-logout-redirect-uri", "post_logout", multiple=True)
@click.option("--public", is_flag=True, help="A public client (no secret; PKCE required).")
@click.option("--grant", "grants", multiple=True, help="authorization_code, refresh_token, client_credentials")
@click.option("--permission", "permissions", multiple=True, help="Application permission for app-only tokens.")
@click.option(
    "--scope",
    "scopes",
    multiple=True,
    help="Delegated permission the app may request: a Graph one (Policy.Read.All) or api://<id>/<scope>.",
)
@click.option("--expose-scope", "exposed", multiple=True, help="A scope this app exposes as an API (repeatable).")
@click.option("--identifier-uri", default=None, help="The API's identifier URI (default api://<client id>).")
@click.option(
    "--signing-alg",
    type=click.Choice(["RS256", "ES256"]),
    default="RS256",
    help="How its ID and access tokens are signed (ES256 is smaller and faster).",
)
@click.option(
    "--require-strength",
    default=None,
    help="An authentication strength every sign-in to this app must meet: mfa, passwordless, "
    "phishing-resistant, or a custom strength's id.",
)
@click.option(
    "--certificate",
    type=click.File("rb"),
    default=None,
    help="A PEM certificate whose key signs the app's client assertions (private_key_jwt).",
)
@click.option("--allow-ropc", is_flag=True, help="Allow grant_type=password (ROPC) for this app.")
@click.option("--id-tokens", is_flag=True, help="Allow response_type id_token and code id_token.")
@click.option("--json", "as_json", is_flag=True)
# its length is its signature: one parameter per option of the command
def create_client_cmd(
    tenant,
    name,
    redirect_uris,
    post_logout,
    public,
    grants,
    permissions,
    scopes,
    exposed,
    identifier_uri,
    signing_alg,
    require_strength,
    certificate,
    allow_ropc,
    id_tokens,
    as_json,
):
    tenant = _tenant_or_fail(tenant)
    try:
        client, secret = create_client(
            tenant,
            name,
            redirect_uris,
            public,
            grants,
            permissions,
            post_logout,
            scopes,
            exposed,
            identifier_uri,
            signing_alg,
            certificate=certificate.read() if certificate else None,
        )
        client.ropc_enabled, client.id_tokens_enabled = allow_ropc, id_tokens
    except ValueError as error:
        raise click.ClickException(str(error)) from None
    from .oidc import applications

    applications.ensure_service_principal(client)  # as the portal does: the app and its instance in the tenant
    if require_strength:
        client.required_strength_id = _strength_id(tenant, require_strength)
    record_admin_change(
        "Add application",
        "client",
        client.id,
        after={
            "name": name,
            "public": public,
            "grants": client.grant_types,
            "redirectUris": client.redirect_uris,
            "permissions": list(permissions),
        },
        tenant_id=tenant.id,
    )
    db.session.commit()
    _emit(
        as_json,
        _client_summary(client, secret),
        f"client_id:     {client.id}\nclient_secret: {secret or '(public client)'}",
    )


def _strength_id(tenant, name: str) -> str:
    """A built-in strength by its short name (mfa, passwordless, phishing-resistant) or any strength by id."""
    from .policy import strengths

    named = {
        "mfa": strengths.MFA,
        "passwordless": strengths.PASSWORDLESS,
        "phishing-resistant": strengths.PHISHING_RESISTANT,
    }
    strength = strengths.find(tenant.id, named.get(name, name))
    if strength is None:
        raise click.ClickException(f"no authentication strength {name!r} in this tenant")
    return strength.id


def _client_summary(client, secret: str | None) -> dict:
    return {
        "client_id": client.id,
        "client_secret": secret,
        "grant_types": client.grant_types,
        "redirect_uris": client.redirect_uris,
        "identifier_uri": client.resource_uri,
        "exposed_scopes": client.exposed_scopes,
        "certificate_thumbprints": [{"x5t": c["x5t"], "x5t#S256": c["x5t#S256"]} for c in client.certificates or []],
    }


@idp_cli.command("rotate-keys")
@click.option("--json", "as_json", is_flag=True)
def rotate_keys_cmd(as_json):
    new = keys.rotate()
    record_admin_change("Rotate signing keys", "signingKey", None, after={"kids": [k.kid for k in new]})
    db.session.commit()
    _emit(
        as_json,
        {"active": [{"kid": k.kid, "alg": k.alg} for k in new]},
        "\n".join(f"new active {k.alg} key {k.kid}" for k in new),
    )


@idp_cli.command("reseal")
@click.option("--json", "as_json", is_flag=True)
def reseal_cmd(as_json):
    """Re-seal OATH secrets and signing keys under the first IDP_ENCRYPTION_KEYS key (key rotation)."""
    from .reseal import reseal_all

    counts = reseal_all()
    record_admin_change("Re-seal secrets under the current encryption key", "encryptionKey", None, after=counts)
    db.session.commit()
    _emit(as_json, counts, "\n".join(f"{table}: {n} re-sealed" for table, n in counts.items()))


@idp_cli.command("seed-demo")
@click.option("--base-url", default=None, help="Where the demo relying party is served (default from HOST/PORT).")
@click.option("--json", "as_json", is_flag=True)
def seed_demo_cmd(base_url, as_json):
    base_url = (base_url or f"http://{os.environ.get('HOST', '127.0.0.1')}:{os.environ.get('PORT', '5000')}").rstrip(
        "/"
    )
    result = seed_demo(base_url)
    text = [f"Demo tenant Contoso ({result['tenant_id']}), domain contoso.test", "Sign in with:"]
    text += [
        f"  {u['upn']:<22} password {u['password']:<18} {', '.join(u['roles']) or 'member'}" for u in result["users"]
    ]
    # Browsers refuse passkeys (WebAuthn) on an IP address: the links say localhost.
    shown = base_url.replace("//127.0.0.1:", "//localhost:").replace("//[::1]:", "//localhost:")
    text.append(f"Open {shown}/_demo/ and choose 'Sign in'.")
    text.append(f"Admin console:    {shown}/contoso.test/admin/")
    text.append(f"My Security Info: {shown}/contoso.test/mysecurityinfo/")
    text.append("Use localhost, not 127.0.0.1: browsers refuse passkeys on an IP address.")
    _emit(as_json, result, "\n".join(text))


#: the methods the demo tenant turns on for everyone
DEMO_METHODS = (
    "TemporaryAccessPass",
    "SoftwareOath",
    "HardwareOath",
    "Fido2",
    "Email",
    "Sms",
    "Voice",
    "MicrosoftAuthenticator",
)


def seed_demo(base_url: str) -> dict:
    """Idempotent: the Contoso tenant, its two users and the demo app; adds `base_url` to the app's URIs."""
    from .demo import DEMO_CLIENT_NAME, DEMO_DOMAIN

    keys.ensure_keys()
    tenant = directory.find_tenant(DEMO_DOMAIN) or directory.create_tenant("Contoso", [DEMO_DOMAIN])
    users = []
    for upn, name, password, roles in DEMO_USERS:
        if directory.find_user(tenant, upn) is None:
            directory.create_user(tenant, upn, name, password, roles)
        users.append({"upn": upn, "password": password, "roles": roles})
    for method_id in DEMO_METHODS:  # so that a newcomer can add and try every method straight away
        config = policy.get(tenant.id, method_id)
        if config.state != "enabled":
            config.state = "enabled"
            policy.save(tenant.id, config)
    client = db.session.scalar(select(Client).where(Client.tenant_id == tenant.id, Client.name == DEMO_CLIENT_NAME))
    if client is None:
        client, _ = create_client(tenant, DEMO_CLIENT_NAME, [], public=True)
    bases = [base_url]
    if "//127.0.0.1:" in base_url:  # the same server reached as localhost
        bases.append(base_url.replace("//127.0.0.1:", "//localhost:"))
    for base in bases:
        callback, home = f"{base}/_demo/callback", f"{base}/_demo/"
        if callback not in client.redirect_uris:
            client.redirect_uris = client.redirect_uris + [callback]
        if home not in client.post_logout_redirect_uris:
            client.post_logout_redirect_uris = client.post_logout_redirect_uris + [home]
    db.session.commit()
    return {"tenant_id": tenant.id, "client_id": client.id, "users": users}


@idp_cli.command("tls")
@click.option("--name", "names", multiple=True, help="Extra DNS name or IP (also from IDP_TLS_NAMES).")
@click.option("--json", "as_json", is_flag=True)
def tls_cmd(names, as_json):
    """Create (once) the local CA and the HTTPS certificate for development, and say how to trust it."""
    from flask import current_app

    from . import devtls

    wanted = list(dict.fromkeys([*devtls.names_from_env(), *names]))
    files = devtls.ensure(current_app.instance_path, wanted)
    _emit(
        as_json,
        {"ca": str(files.ca_cert), "cert": str(files.cert), "key": str(files.key), "names": wanted},
        devtls.hints(files),
    )
