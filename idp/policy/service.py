"""Reading and changing method configurations, and asking whether one applies to a user."""

import copy
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Callable

from sqlalchemy import select

from ..errors import ServiceError
from .. import cache
from ..directory import service as directory
from ..extensions import db
from .models import MethodConfiguration

ALL_USERS = "all_users"


class PolicyError(ServiceError, ValueError):
    """A refused change; the message names the offending property."""


@dataclass
class ConfigType:
    """How one method's configuration looks in Graph and which settings it has.

    `validate(merged_settings)` returns an error message naming the bad property, or None.
    """

    method_id: str
    odata_type: str
    default_state: str = "disabled"
    defaults: dict = field(default_factory=dict)
    validate: Callable[[dict], str | None] = lambda settings: None
    aliases: tuple[str, ...] = ()
    #: settings that are not a plain bool or number bring their own console fragment and form parser
    form_template: str | None = None
    parse_form: Callable[[dict, dict], dict] | None = None  # (form, current settings) -> PATCH properties


_types: dict[str, ConfigType] = {}


def register(config_type: ConfigType) -> ConfigType:
    for name in (config_type.method_id, *config_type.aliases):
        _types[name.lower()] = config_type
    return config_type


def config_type(method_id: str) -> ConfigType | None:
    return _types.get((method_id or "").lower())


def all_types() -> list[ConfigType]:
    seen = {}
    for item in _types.values():
        seen[item.method_id] = item
    return list(seen.values())


@dataclass
class Configuration:
    """A method's effective configuration in a tenant (stored values over defaults)."""

    method_id: str
    state: str
    include_targets: list
    exclude_targets: list
    settings: dict

    @property
    def enabled(self) -> bool:
        return self.state == "enabled"


def get(tenant_id: str, method_id: str) -> Configuration:
    kind = config_type(method_id)
    row = _row(tenant_id, kind.method_id)
    if row is None:
        return Configuration(
            kind.method_id, kind.default_state, [{"id": ALL_USERS, "targetType": "group"}], [], dict(kind.defaults)
        )
    return Configuration(
        kind.method_id,
        row.state,
        list(row.include_targets),
        list(row.exclude_targets),
        {**kind.defaults, **row.settings},
    )


#: how long another process may go on applying a policy as it was (Entra's own changes take minutes)
CACHE_SECONDS = 5


def _row(tenant_id: str, method_id: str) -> SimpleNamespace | None:
    """All of a tenant's configurations in one look-up, kept a few seconds per process: every step of every
    sign-in asks about every method."""
    rows = cache.named("policies", ttl=CACHE_SECONDS).get(tenant_id, lambda: _tenant_rows(tenant_id))
    values = rows.get(method_id)
    return SimpleNamespace(**copy.deepcopy(values)) if values is not None else None  # callers never share lists


def _tenant_rows(tenant_id: str) -> dict:
    query = select(MethodConfiguration).where(MethodConfiguration.tenant_id == tenant_id)
    return {row.method_id: cache.column_values(row) for row in db.session.scalars(query)}


cache.cleared_on_change("policies", MethodConfiguration)


def save(tenant_id: str, config: Configuration) -> None:
    row = db.session.get(MethodConfiguration, (tenant_id, config.method_id))
    if row is None:
        row = MethodConfiguration(tenant_id=tenant_id, method_id=config.method_id)
        db.session.add(row)
    row.state, row.include_targets, row.exclude_targets = config.state, config.include_targets, config.exclude_targets
    row.settings = config.settings
    db.session.flush()


def targets(config: Configuration, user) -> bool:
    """Whether the configuration applies to `user`: enabled, included, and not excluded (exclusion wins)."""
    if not config.enabled or user is None:
        return False
    groups = None

    def member_of(target) -> bool:
        nonlocal groups
        if target.get("id") == ALL_USERS:
            return True
        if groups is None:
            groups = directory.group_ids_of(user)
        return target.get("id") in groups

    if any(member_of(t) for t in config.exclude_targets):
        return False
    return any(member_of(t) for t in config.include_targets)


def applies_to(tenant_id: str, method_id: str, user) -> bool:
    return targets(get(tenant_id, method_id), user)


def apply_patch(kind: ConfigType, config: Configuration, body: dict, tenant) -> None:
    """Validate and apply a PATCH body; a 400 names the offending property and nothing is saved."""
    odata_type = body.get("@odata.type")
    if odata_type is not None and str(odata_type).lstrip("#").lower() != kind.odata_type.lstrip("#").lower():
        raise PolicyError(f"@odata.type '{odata_type}' does not match configuration '{kind.method_id}'.")
    settings = dict(config.settings)
    for name, value in body.items():
        if name in ("@odata.type", "id"):
            continue
        if name == "state":
            if value not in ("enabled", "disabled"):
                raise PolicyError("Property 'state' must be 'enabled' or 'disabled'.")
            config.state = value
        elif name in ("includeTargets", "excludeTargets"):
            parsed = _targets(name, value, tenant)
            if name == "includeTargets":
                config.include_targets = parsed
            else:
                config.exclude_targets = parsed
        elif name in kind.defaults:
            settings[name] = value
        else:
            raise PolicyError(f"Property '{name}' is not valid for the {kind.method_id} configuration.")
    problem = kind.validate(settings)
    if problem:
        raise PolicyError(problem)
    config.settings = settings


def _targets(name: str, value, tenant) -> list:
    if not isinstance(value, list) or len(value) > 100:
        raise PolicyError(f"Property '{name}' must be a list of targets.")
    parsed = []
    for target in value:
        if not isinstance(target, dict) or not isinstance(target.get("id"), str):
            raise PolicyError(f"Each entry of '{name}' needs an 'id' (a group id or 'all_users').")
        if target.get("targetType", "group") != "group":
            raise PolicyError(f"Property '{name}': only targetType 'group' is supported.")
        if target["id"] != ALL_USERS and directory.find_group(tenant, target["id"]) is None:
            raise PolicyError(f"Property '{name}': group '{target['id'][:64]}' does not exist in this tenant.")
        entry = {"id": target["id"], "targetType": "group"}
        if name == "includeTargets" and isinstance(target.get("isRegistrationRequired"), bool):
            entry["isRegistrationRequired"] = target["isRegistrationRequired"]
        parsed.append(entry)
    return parsed
