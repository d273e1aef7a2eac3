"""Graph resources of the authentication methods policy."""

from ..audit import record_admin_change
from ..directory.models import Roles
from ..extensions import db
from ..kit.graph import current_caller, forbidden, not_found, odata_context, operation, read_json
from . import service

CONFIG_SCHEMA = {
    "type": "object",
    "properties": {
        "@odata.type": {"type": "string"},
        "id": {"type": "string"},
        "state": {"type": "string", "enum": ["enabled", "disabled"]},
        "includeTargets": {"type": "array", "items": {"type": "object"}},
        "excludeTargets": {"type": "array", "items": {"type": "object"}},
    },
}


def require(roles: set[str]) -> None:
    """Delegated callers need one of these directory roles (the token's permissions were checked against
    the operation's row of idp/kit/graph_permissions.py before the handler ran); apps need no role."""
    caller = current_caller()
    if not caller.is_app and not caller.roles & roles:
        raise forbidden()


def graph_config(config: service.Configuration) -> dict:
    kind = service.config_type(config.method_id)
    return {
        "@odata.type": kind.odata_type,
        "id": config.method_id,
        "state": config.state,
        "includeTargets": [
            {"targetType": "group", "isRegistrationRequired": False, **t} for t in config.include_targets
        ],
        "excludeTargets": [{"targetType": "group", **t} for t in config.exclude_targets],
        **config.settings,
    }


@operation(
    "/policies/authenticationMethodsPolicy",
    ["GET"],
    summary="Get the authentication methods policy",
    responses={"200": ("The policy", {"type": "object"})},
)
def get_policy():
    require(Roles.POLICY_READERS)
    tenant_id = current_caller().tenant.id
    return {
        "@odata.context": odata_context("policies/authenticationMethodsPolicy/$entity"),
        "id": "authenticationMethodsPolicy",
        "displayName": "Authentication Methods Policy",
        "description": "The tenant-wide policy that controls which authentication methods are allowed in the tenant.",
        "policyVersion": "1.5",
        "reportSuspiciousActivitySettings": _suspicious_activity_settings(tenant_id),
        "authenticationMethodConfigurations": [
            graph_config(service.get(tenant_id, t.method_id)) for t in service.all_types()
        ],
    }


def _suspicious_activity_settings(tenant_id: str) -> dict:
    from ..mfa import settings as mfa_settings  # the MFA settings own it; Graph shows it on this policy

    return mfa_settings.get(tenant_id, "reportSuspiciousActivity")


def _config_or_404(config_id: str) -> service.ConfigType:
    kind = service.config_type(config_id)
    if kind is None:
        raise not_found(f"There is no authentication method configuration '{config_id[:64]}'.")
    return kind


@operation(
    "/policies/authenticationMethodsPolicy/authenticationMethodConfigurations/{config_id}",
    ["GET"],
    summary="Get one method's configuration",
    responses={"200": ("The configuration", CONFIG_SCHEMA)},
)
def get_config(config_id):
    require(Roles.POLICY_READERS)
    kind = _config_or_404(config_id)
    config = service.get(current_caller().tenant.id, kind.method_id)
    return {
        "@odata.context": odata_context(
            "policies/authenticationMethodsPolicy/authenticationMethodConfigurations/$entity"
        ),
        **graph_config(config),
    }


@operation(
    "/policies/authenticationMethodsPolicy/authenticationMethodConfigurations/{config_id}",
    ["PATCH"],
    summary="Change one method's configuration",
    body=CONFIG_SCHEMA,
    status=204,
    responses={"204": ("Changed", None)},
)
def patch_config(config_id):
    require(Roles.POLICY_ADMINS)
    kind = _config_or_404(config_id)
    caller = current_caller()
    body = read_json()
    config = service.get(caller.tenant.id, kind.method_id)
    before = graph_config(config)
    service.apply_patch(kind, config, body, caller.tenant)
    service.save(caller.tenant.id, config)
    record_admin_change(
        "Update authentication methods policy",
        "authenticationMethodConfiguration",
        kind.method_id,
        before=before,
        after=graph_config(config),
    )
    db.session.commit()
    return "", 204


# Graph also answers the configuration paths without the /policies segment (the FIDO2 documentation uses them).
ALIAS = "/authenticationMethodsPolicy/authenticationMethodConfigurations/{config_id}"


@operation(
    ALIAS,
    ["GET"],
    summary="Get one method's configuration (path without /policies)",
    responses={"200": ("The configuration", CONFIG_SCHEMA)},
)
def get_config_alias(config_id):
    return get_config.__wrapped__(config_id)


@operation(
    ALIAS,
    ["PATCH"],
    summary="Change one method's configuration (path without /policies)",
    body=CONFIG_SCHEMA,
    status=204,
    responses={"204": ("Changed", None)},
)
def patch_config_alias(config_id):
    return patch_config.__wrapped__(config_id)
