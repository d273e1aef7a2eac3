"""Configuration: defaults, then instance/config.py, then the environment, then the caller's overrides."""
import os
import secrets
from pathlib import Path

from . import crypto

DEFAULTS = {
    "SQLALCHEMY_ENGINE_OPTIONS": {},
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
    "IDP_SIGNIN_TXN_LIFETIME": 60 * 60,  # longer than an emailed code lives (30 minutes)
    "IDP_SSO_LIFETIME": 24 * 3600,  # browser-session SSO, without "stay signed in"
    "IDP_SSO_PERSISTENT_LIFETIME": 90 * 24 * 3600,  # with "stay signed in"
    # Argon2id; cost comparable to Keycloak's default (see README, benchmarks).
    "IDP_ARGON2_TIME_COST": 3,
    "IDP_ARGON2_MEMORY_KIB": 19 * 1024,
    "IDP_ARGON2_PARALLELISM": 1,
    "IDP_TRUSTED_PROXIES": 0,
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
}

ENV_INT = {"IDP_TRUSTED_PROXIES", "IDP_ARGON2_TIME_COST", "IDP_ARGON2_MEMORY_KIB", "MAIL_PORT"}
ENV_BOOL = {"IDP_COUNT_SQL", "IDP_DEV_MODE", "MAIL_USE_TLS", "MAIL_USE_SSL", "RATELIMIT_ENABLED", "IDP_TLS"}
ENV_STR = {"SECRET_KEY", "IDP_BASE_URL", "REDIS_URL", "MAIL_SERVER", "MAIL_USERNAME",
           "MAIL_PASSWORD", "MAIL_DEFAULT_SENDER",
           "IDP_WEBAUTHN_RP_ID", "IDP_WEBAUTHN_RP_NAME", "IDP_FIDO_MDS_ROOT_CERT", "IDP_FIDO_MDS_PATH"}


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
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = _instance_secret(instance / "secret_key", lambda: secrets.token_urlsafe(48))
    keys = app.config.get("IDP_ENCRYPTION_KEYS") or _instance_secret(instance / "encryption.key", crypto.new_key)
    if isinstance(keys, str):
        keys = crypto.parse_keys(keys)
    app.config["IDP_ENCRYPTION_KEYS"] = keys
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        # SQLite: one writer at a time; wait for the lock instead of failing under concurrency.
        app.config["SQLALCHEMY_ENGINE_OPTIONS"] = {"connect_args": {"timeout": 30}}


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
