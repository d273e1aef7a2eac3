"""Directory roles through Graph (msgraph-sdk), and groups as policy targets while their members change."""

import pytest
import requests
from msgraph.generated.models.o_data_errors.o_data_error import ODataError
from msgraph.generated.models.reference_create import ReferenceCreate
from msgraph.generated.models.unified_role_assignment import UnifiedRoleAssignment

from idp.directory import service as directory
from idp.directory.models import Roles
from idp.extensions import db
from idp.policy import service as policy

from . import graph_sdk
from .support import PASSWORD, delegated_sign_in
from .test_graph_directory import ga_token, tool  # noqa: F401  (fixtures)

USER_ADMIN = "fe930be7-5e62-47db-91af-98c3a49a38b1"
GLOBAL_ADMIN = "62e90394-69f5-4237-9190-012177145e10"


def test_role_assignments_grant_a_role_that_the_next_call_honours(live, seed, tool, ga_token):
    bob = directory.create_user(seed.tenant, "bob@contoso.test", "Bob", PASSWORD)
    db.session.commit()

    async def assign():
        graph = graph_sdk.client(live.url, ga_token)
        made = await graph.role_management.directory.role_assignments.post(
            UnifiedRoleAssignment(principal_id=bob.id, role_definition_id=USER_ADMIN, directory_scope_id="/")
        )
        definitions = await graph.role_management.directory.role_definitions.get()
        roles = await graph.directory_roles.get()
        return made, definitions, roles

    made, definitions, roles = graph_sdk.run(assign)
    assert made.role_definition_id == USER_ADMIN and made.principal_id == bob.id
    assert {"User Administrator", "Security Administrator", "Conditional Access Administrator"} <= {
        d.display_name for d in definitions.value
    }
    user_admin_role = next(r for r in roles.value if r.role_template_id == USER_ADMIN)
    members = graph_sdk.run(
        lambda: (
            graph_sdk.client(live.url, ga_token).directory_roles.by_directory_role_id(user_admin_role.id).members.get()
        )
    )
    assert [m.id for m in members.value] == [bob.id]
    bob_token = delegated_sign_in(live.url, "contoso.test", tool, "bob@contoso.test")[0]["access_token"]
    created = requests.post(
        f"{live.url}/v1.0/users",
        headers={"Authorization": f"Bearer {bob_token}"},
        json={
            "accountEnabled": True,
            "displayName": "New",
            "mailNickname": "new",
            "userPrincipalName": "new@contoso.test",
            "passwordProfile": {"password": "Fixture-Passw0rd!"},
        },
    )
    assert created.status_code == 201  # a User Administrator now
    graph_sdk.run(
        lambda: (
            graph_sdk.client(live.url, ga_token)
            .role_management.directory.role_assignments.by_unified_role_assignment_id(made.id)
            .delete()
        )
    )
    db.session.expire_all()
    assert directory.find_user(seed.tenant, "bob@contoso.test").roles == set()


def test_roles_need_a_privileged_role_administrator_and_the_last_global_administrator_stays(live, seed, ga_token):
    directory.create_user(seed.tenant, "ua@contoso.test", "UA", PASSWORD, [Roles.USER_ADMIN])
    db.session.commit()
    with pytest.raises(ODataError) as last:
        graph_sdk.run(
            lambda: (
                graph_sdk.client(live.url, ga_token)
                .role_management.directory.role_assignments.by_unified_role_assignment_id(
                    f"{GLOBAL_ADMIN}_{seed.admin.id}"
                )
                .delete()
            )
        )
    assert last.value.response_status_code == 400 and "last Global Administrator" in last.value.error.message


def test_group_targets_of_a_policy_follow_membership_changes(live, seed, ga_token):
    pilot = directory.create_group(seed.tenant, "Pilot")
    db.session.commit()
    config = policy.get(seed.tenant.id, "TemporaryAccessPass")
    config.state, config.include_targets = "enabled", [{"id": pilot.id, "targetType": "group"}]
    policy.save(seed.tenant.id, config)
    db.session.commit()
    assert not policy.targets(policy.get(seed.tenant.id, "TemporaryAccessPass"), seed.alice)
    graph_sdk.run(
        lambda: (
            graph_sdk.client(live.url, ga_token)
            .groups.by_group_id(pilot.id)
            .members.ref.post(
                ReferenceCreate(odata_id=f"https://graph.microsoft.com/v1.0/directoryObjects/{seed.alice.id}")
            )
        )
    )
    headers = {"Authorization": f"Bearer {ga_token}"}
    tap = requests.post(
        f"{live.url}/v1.0/users/{seed.alice.id}/authentication/temporaryAccessPassMethods", json={}, headers=headers
    )
    assert tap.status_code == 201  # the policy now targets alice
    graph_sdk.run(
        lambda: (
            graph_sdk.client(live.url, ga_token)
            .groups.by_group_id(pilot.id)
            .members.by_directory_object_id(seed.alice.id)
            .ref.delete()
        )
    )
    db.session.expire_all()
    assert not policy.targets(policy.get(seed.tenant.id, "TemporaryAccessPass"), seed.alice)
