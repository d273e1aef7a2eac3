"""Scopes in Entra's forms.

- OIDC scopes: openid, profile, email, offline_access.
- Graph permissions, bare (`User.Read`) or with the resource (`https://graph.microsoft.com/User.Read`).
- Permissions of an API registered in the tenant: `api://<client id>/<scope>` (or its identifier URI).
- `<resource>/.default`: every permission of that resource the client was granted.

One token is for one resource (as in Entra): asking for two resources' scopes at once is refused.
A client's granted scopes are stored normalised: Graph ones bare, other resources' as `<identifier URI>/<scope>`.
"""

from dataclasses import dataclass, field

GRAPH_RESOURCE = "https://graph.microsoft.com"
OIDC_SCOPES = {"openid", "profile", "email", "offline_access"}


class ScopeError(ValueError):
    pass


@dataclass
class Resolved:
    resource: str = GRAPH_RESOURCE  # identifier URI of the resource (Graph's URL or api://...)
    audience: str = GRAPH_RESOURCE  # the `aud` of the access token
    scopes: list[str] = field(default_factory=list)  # normalised, OIDC ones included

    @property
    def permissions(self) -> list[str]:
        """The resource's permission names, as `scp` / `roles` carry them (no resource prefix)."""
        prefix = "" if self.resource == GRAPH_RESOURCE else self.resource + "/"
        return [s[len(prefix) :] for s in self.scopes if s not in OIDC_SCOPES]


def _split(item: str) -> tuple[str, str]:
    """(resource identifier, permission) of one requested scope."""
    if item.startswith(GRAPH_RESOURCE + "/"):
        return GRAPH_RESOURCE, item[len(GRAPH_RESOURCE) + 1 :]
    if "://" in item:
        resource, _, name = item.rpartition("/")
        return resource, name
    return GRAPH_RESOURCE, item


def resolve(scope: str | None, granted: list[str], find_resource=None) -> Resolved:
    """Normalise a scope request against the client's `granted` scopes. `find_resource(uri)` returns the
    audience (client id) of an API registered in the tenant, or None."""
    result = Resolved()
    resources = set()
    for item in (scope or "").split():
        if item in OIDC_SCOPES:
            if item not in result.scopes:
                result.scopes.append(item)
            continue
        resource, name = _split(item)
        resources.add(resource)
        prefix = "" if resource == GRAPH_RESOURCE else resource + "/"
        if name == ".default":
            wanted = [
                s for s in granted if s not in OIDC_SCOPES and (s.startswith(prefix) if prefix else "://" not in s)
            ]
        else:
            wanted = [prefix + name]
        result.scopes.extend(s for s in wanted if s not in result.scopes)
    if len(resources) > 1:
        raise ScopeError("Scopes of more than one resource were requested; ask for one resource per token.")
    if resources and resources != {GRAPH_RESOURCE}:
        result.resource = resources.pop()
        audience = find_resource(result.resource) if find_resource else None
        if audience is None:
            raise ScopeError(f"There is no resource '{result.resource}' in this organization.")
        result.audience = audience
    return result


def normalise(scope: str | None, granted: list[str]) -> list[str]:
    """Requested scopes in stored form (kept for callers that only need the list)."""
    return resolve(scope, granted, lambda uri: uri).scopes
