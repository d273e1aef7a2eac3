"""The operations that span the directory's resources: a user's memberships (groups and directory roles) and
a directory object looked up by id (user, group or service principal). They sit above users, groups, roles and
applications, so those resource modules need not import one another in a circle."""

from ..directory import service as directory
from ..directory.models import Group, ServicePrincipal, User
from ..extensions import db
from . import access, users
from ..kit.graph import current_caller, odata_context, operation
from .applications import graph_service_principal
from .groups import graph_group
from .roles import graph_directory_role
from .users import COLLECTION, graph_user


@operation(
    "/users/{user_ref}/memberOf",
    ["GET"],
    summary="Groups and directory roles the user is a member of",
    responses={"200": ("Groups", COLLECTION)},
)
def member_of(user_ref):
    user = users.directory_user(user_ref)
    if not users.is_self(user):
        access.require(access.USER_READ | access.GROUP_READ, access.USER_READ_APP | access.GROUP_READ)
    value = [{"@odata.type": "#microsoft.graph.group", **graph_group(g)} for g in directory.groups_of(user)]
    value += [graph_directory_role(current_caller().tenant, role) for role in sorted(user.roles)]
    return {"@odata.context": odata_context("directoryObjects"), "value": value}


@operation(
    "/directoryObjects/{object_id}",
    ["GET"],
    summary="Get a directory object (user, group, service principal)",
    responses={"200": ("Directory object", {"type": "object"})},
)
def get_directory_object(object_id):
    access.require(
        access.USER_READ | access.GROUP_READ | access.APP_READ,
        access.USER_READ_APP | access.GROUP_READ | access.APP_READ,
    )
    tenant_id = current_caller().tenant.id
    if len(object_id) <= 36:
        for model, kind, shape in (
            (User, "user", graph_user),
            (Group, "group", graph_group),
            (ServicePrincipal, "servicePrincipal", graph_service_principal),
        ):
            row = db.session.get(model, object_id)
            if row is not None and row.tenant_id == tenant_id:
                return {
                    "@odata.context": odata_context("directoryObjects/$entity"),
                    "@odata.type": f"#microsoft.graph.{kind}",
                    **shape(row),
                }
    raise access.not_found(object_id)
