"""Configuration: defaults, then instance/config.py, then the environment, then the caller's overrides."""

import os
import secrets
from pathlib import Path
from urllib.parse import urlsplit

from . import crypto

DEFAULTS = {
    "SQLALCHEMY_ENGINE_OPTIONS": {},
    # Request bodies: 1 MiB (413 above), form fields held in memory 512 KiB; uploads have their own caps.
    "MAX_CONTENT_LENGTH": 1024 * 1024,
    "MAX_FORM_MEMORY_SIZE": 512 * 1024,
    "MAX_FORM_PARTS": 200,
    "IDP_OATH_CSV_MAX_BYTES": 16 * 1024 * 1024,
    "IDP_FIDO_MDS_MAX_BYTES": 32 * 1024 * 1024,
    "IDP_DB_PING_IDLE_SECONDS": 1.0,  # ping a pooled connection idle this long before use (idp/dbpool.py)
    "SESSION_COOKIE_NAME": "idp_flow",
    "SESSION_COOKIE_HTTPONLY": True,
    "SESSION_COOKIE_SAMESITE": "Lax",
    "WTF_CSRF_TIME_LIMIT": None,  # the sign-in transaction has its own expiry
    # Token lifetimes (seconds), Entra-like defaults.
    "IDP_ACCESS_TOKEN_LIFETIME": 3600,
    "IDP_ID_TOKEN_LIFETIME": 3600,
    "IDP_REFRESH_TOKEN_LIFETIME": 90 * 24 * 3600,
    "IDP_AUTH_CODE_LIFETIME": 300,
    # Access tokens are not stored; a revocation made in one process reaches every other one within this
    # (seconds; idp/oidc/revocation.py)
    "IDP_REVOCATION_SYNC_SECONDS": 0.5,
    "IDP_SIGNIN_TXN_LIFETIME": 60 * 60,  # longer than an emailed code lives (30 minutes)
    "IDP_SSO_LIFETIME": 24 * 3600,  # browser-session SSO, without "stay signed in"
    "IDP_SSO_PERSISTENT_LIFETIME": 90 * 24 * 3600,  # with "stay signed in"
    # Argon2id; cost comparable to Keycloak's default (see README, benchmarks).
    "IDP_ARGON2_TIME_COST": 3,
    "IDP_ARGON2_MEMORY_KIB": 19 * 1024,
    "IDP_ARGON2_PARALLELISM": 1,
    "IDP_TRUSTED_PROXIES": 0,
    # Smart lockout of first factors: failures per username and location kind (familiar or not) per window.
    "IDP_SIGNIN_LOCKOUT_THRESHOLD": 10,
    "IDP_SIGNIN_LOCKOUT_WINDOW": 5 * 60,
    "IDP_DEV_MODE": False,
    "RATELIMIT_STORAGE_URI": "memory://",
    "RATELIMIT_HEADERS_ENABLED": True,
    "RATELIMIT_IN_MEMORY_FALLBACK_ENABLED": True,  # Redis down: count per process rather than refuse sign-ins
    "RATELIMIT_STORAGE_OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
    "MAIL_DEFAULT_SENDER": "IdP <no-reply@idp.localhost>",
    # Passkeys: the WebAuthn relying party is the issuer's host unless set; MDS BLOB root and optional file.
    "IDP_WEBAUTHN_RP_ID": None,
    "IDP_WEBAUTHN_RP_NAME": "IdP",
    "IDP_FIDO_MDS_ROOT_CERT": None,
    "IDP_FIDO_MDS_PATH": None,
    "IDP_PASSKEY_REGISTRATION_FRESHNESS": 15 * 60,  # a registration needs an MFA sign-in this recent (seconds)
    # Telephony: the simulator (development phone page) unless a real provider is configured.
    "IDP_TELEPHONY_PROVIDER": "simulator",
    "IDP_TWILIO_ACCOUNT_SID": None,
    "IDP_TWILIO_AUTH_TOKEN": None,
    "IDP_TWILIO_FROM": None,
    "IDP_TWILIO_API_BASE": None,
    "IDP_REGISTRATION_MFA_FRESHNESS": 15 * 60,  # adding a method next to an MFA method: MFA this recent (seconds)
}

ENV_INT = {"IDP_TRUSTED_PROXIES", "IDP_ARGON2_TIME_COST", "IDP_ARGON2_MEMORY_KIB", "MAIL_PORT"}
ENV_BOOL = {"IDP_COUNT_SQL", "IDP_DEV_MODE", "MAIL_USE_TLS", "MAIL_USE_SSL", "RATELIMIT_ENABLED", "IDP_TLS"}
ENV_STR = {
    "SECRET_KEY",
    "IDP_BASE_URL",
    "IDP_ALLOWED_HOSTS",
    "REDIS_URL",
    "MAIL_SERVER",
    "MAIL_USERNAME",
    "MAIL_PASSWORD",
    "MAIL_DEFAULT_SENDER",
    "IDP_WEBAUTHN_RP_ID",
    "IDP_WEBAUTHN_RP_NAME",
    "IDP_FIDO_MDS_ROOT_CERT",
    "IDP_FIDO_MDS_PATH",
    "IDP_TELEPHONY_PROVIDER",
    "IDP_TWILIO_ACCOUNT_SID",
    "IDP_TWILIO_AUTH_TOKEN",
    "IDP_TWILIO_FROM",
    "IDP_TWILIO_API_BASE",
}


def load(app, overrides: dict | None) -> None:
    app.config.update(DEFAULTS)
    app.config.from_pyfile("config.py", silent=True)
    _from_environment(app.config)
    if overrides:
        app.config.update(overrides)
    instance = Path(app.instance_path)
    app.config.setdefault("SQLALCHEMY_DATABASE_URI", f"sqlite:///{instance / 'idp.db'}")
    if app.config.get("REDIS_URL") and app.config["RATELIMIT_STORAGE_URI"] == "memory://":
        app.config["RATELIMIT_STORAGE_URI"] = app.config["REDIS_URL"]
    if app.config.get("IDP_TLS") or str(app.config.get("IDP_BASE_URL") or "").startswith("https://"):
        app.config["SESSION_COOKIE_SECURE"] = True  # every cookie is Secure when served over HTTPS
    app.config["TRUSTED_HOSTS"] = trusted_hosts(app.config)
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = _instance_secret(instance / "secret_key", lambda: secrets.token_urlsafe(48))
    keys = app.config.get("IDP_ENCRYPTION_KEYS") or _instance_secret(instance / "encryption.key", crypto.new_key)
    if isinstance(keys, str):
        keys = crypto.parse_keys(keys)
    app.config["IDP_ENCRYPTION_KEYS"] = keys
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        # SQLite: one writer at a time; wait for the lock instead of failing under concurrency.
        app.config["SQLALCHEMY_ENGINE_OPTIONS"] = {"connect_args": {"timeout": 30}}


LOCAL_HOSTS = ("localhost", ".localhost", "127.0.0.1", "::1", "[::1]")


def trusted_hosts(config) -> list[str]:
    """The Host headers this server answers: the configured list (`IDP_ALLOWED_HOSTS`, comma-separated, a
    leading dot for subdomains), the host of `IDP_BASE_URL`, and local names. Anything else is a 400, so a
    forged Host can never end up in a link or an issuer."""
    if config.get("TRUSTED_HOSTS") is not None:
        return list(config["TRUSTED_HOSTS"])
    allowed = config.get("IDP_ALLOWED_HOSTS") or []
    hosts = [h.strip() for h in allowed.split(",")] if isinstance(allowed, str) else list(allowed)
    base = urlsplit(str(config.get("IDP_BASE_URL") or "")).hostname
    return [h for h in hosts if h] + ([base] if base else []) + list(LOCAL_HOSTS)


def _from_environment(config) -> None:
    if os.environ.get("DATABASE_URL"):
        config["SQLALCHEMY_DATABASE_URI"] = os.environ["DATABASE_URL"]
    if os.environ.get("IDP_ENCRYPTION_KEYS"):
        config["IDP_ENCRYPTION_KEYS"] = os.environ["IDP_ENCRYPTION_KEYS"]
    for name in ENV_STR | ENV_INT | ENV_BOOL:
        value = os.environ.get(name)
        if value is None or value == "":
            continue
        if name in ENV_INT:
            value = int(value)
        elif name in ENV_BOOL:
            value = value.lower() in {"1", "true", "yes", "on"}
        config[name] = value


def _instance_secret(path: Path, make) -> str:
    """Read a secret from instance/, creating it (owner-only) on first use."""
    if path.exists():
        return path.read_text().strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    value = make()
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process created it first: use theirs
        return path.read_text().strip()
    with os.fdopen(fd, "w") as handle:
        handle.write(value + "\n")
    return value
