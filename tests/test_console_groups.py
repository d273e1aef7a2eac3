"""The console's Groups pages: list with search and paging, create, rename, members, delete with a confirmation;
the Graph API's role rules (read-only for a Global Reader, with the reason); audited; CSRF; post/redirect/get."""

import re

from sqlalchemy import select

from idp.audit.models import AuditLog
from idp.console import groups as console_groups
from idp.directory import service as directory
from idp.directory.models import Group, GroupMember, Roles
from idp.extensions import db

from .test_console_directory_pages import reader_agent
from .test_console_pages import admin_agent

GROUPS = "/contoso.test/admin/groups"


def _groups(tenant_id) -> list[Group]:
    db.session.expire_all()
    return db.session.scalars(select(Group).where(Group.tenant_id == tenant_id)).all()


def _member_ids(group_id) -> set[str]:
    db.session.expire_all()
    return set(db.session.scalars(select(GroupMember.user_id).where(GroupMember.group_id == group_id)))


def _activities(target_id) -> list[str]:
    """The audit entries of a target, in order (each of the test's requests is a separate moment)."""
    db.session.expire_all()
    rows = db.session.scalars(select(AuditLog).where(AuditLog.target_id == target_id).order_by(AuditLog.created_at))
    return [row.activity for row in rows]


def _csrf(agent) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', agent.page.text).group(1)


def test_create_a_group_refused_name_kept_then_members_rename_and_delete(live, seed):
    agent = admin_agent(live, path=GROUPS)
    assert 'href="/contoso.test/admin/groups"' in agent.page.text  # the left navigation has Groups
    assert "There are no groups yet." in agent.text()
    agent.go(GROUPS + "/new")
    refused = agent.submit("/groups/new", displayName="  ", description="Sales staff")
    assert refused.status_code == 400 and 'id="f-displayName-error"' in refused.text and not _groups(seed.tenant.id)
    assert 'value="Sales staff"' in refused.text
    agent.submit("/groups/new", displayName="Sales", description="Sales staff")
    (group,) = _groups(seed.tenant.id)
    group_id = group.id
    assert agent.page.url.endswith(f"/groups/{group.id}") and "Group Sales created." in agent.text()
    assert group.description == "Sales staff" and group.mail_nickname == "Sales"
    duplicate = agent.go(GROUPS + "/new") and agent.submit("/groups/new", displayName="Sales")
    assert duplicate.status_code == 400 and len(_groups(seed.tenant.id)) == 1

    agent.go(f"{GROUPS}/{group.id}")
    agent.submit(f"/groups/{group.id}/members", member="ALICE@contoso.test")
    assert seed.alice.id in _member_ids(group.id) and "alice@contoso.test added to the group." in agent.text()
    agent.submit(f"/groups/{group.id}/members", member="nobody@contoso.test")
    assert "No user nobody@contoso.test" in agent.text() and _member_ids(group.id) == {seed.alice.id}
    agent.go(f"{GROUPS}/{group.id}?find=adm")  # a search lists users who are not members yet, each with Add
    assert 'id="candidates"' in agent.page.text and "admin@contoso.test" in agent.page.text
    assert "alice@contoso.test</span>" not in agent.page.text
    agent.submit(f"/groups/{group.id}/members", member=seed.admin.id)
    assert _member_ids(group.id) == {seed.alice.id, seed.admin.id}

    remove = f"/groups/{group.id}/members/{seed.alice.id}/remove"
    unconfirmed = agent.http.post(live.url + GROUPS + remove.removeprefix("/groups"), data={"csrf_token": _csrf(agent)})
    assert unconfirmed.status_code == 400 and seed.alice.id in _member_ids(group.id)
    agent.submit(remove, confirm="yes")
    assert _member_ids(group.id) == {seed.admin.id}

    agent.submit(f"/groups/{group.id}", displayName="Sales EMEA", description="")
    assert agent.page.url.endswith(group.id) and "Saved." in agent.text()
    (renamed,) = _groups(seed.tenant.id)
    assert renamed.display_name == "Sales EMEA" and renamed.description is None

    agent.submit(f"/groups/{group.id}/delete", confirm="yes")
    assert agent.page.url.endswith(GROUPS) and "Group Sales EMEA deleted." in agent.text()
    assert not _groups(seed.tenant.id)
    assert _activities(group_id) == [
        "Add group",
        "Add member to group",
        "Add member to group",
        "Remove member from group",
        "Update group",
        "Delete group",
    ]


def test_group_list_searches_and_pages(live, seed, monkeypatch):
    for name in ("Alpha", "Beta", "Bravo", "Charlie"):
        directory.create_group(seed.tenant, name)
    db.session.commit()
    monkeypatch.setattr(console_groups, "GROUPS_PAGE", 2)
    agent = admin_agent(live, path=GROUPS)
    assert "Alpha" in agent.text() and "Beta" in agent.text() and "Bravo" not in agent.text()
    assert 'id="next-page"' in agent.page.text and 'id="previous-page"' not in agent.page.text
    agent.go(GROUPS + "?page=2")
    assert "Bravo" in agent.text() and "Charlie" in agent.text() and "Alpha" not in agent.text()
    agent.go(GROUPS + "?q=b")
    assert "Beta" in agent.text() and "Bravo" in agent.text() and "Alpha" not in agent.text()
    agent.go(GROUPS + "?q=zzz")
    assert "No groups match." in agent.text()


def test_a_global_reader_sees_groups_read_only_with_the_reason(live, seed):
    group = directory.create_group(seed.tenant, "Finance")
    db.session.commit()
    reader = reader_agent(live, seed)
    reader.go(GROUPS)
    assert 'id="read-only"' in reader.page.text and 'id="new-group"' not in reader.page.text
    assert "Only a Groups Administrator" in reader.text()
    reader.go(f"{GROUPS}/{group.id}")
    assert 'id="delete-group"' not in reader.page.text and 'id="add-member"' not in reader.page.text
    assert 'id="refused-members"' in reader.page.text and 'id="f-displayName" name="displayName"' in reader.page.text
    token = _csrf(reader)
    for path, data in (
        ("/new", {"displayName": "X"}),
        (f"/{group.id}", {"displayName": "Renamed"}),
        (f"/{group.id}/members", {"member": "alice@contoso.test"}),
        (f"/{group.id}/delete", {"confirm": "yes"}),
    ):
        refused = reader.http.post(live.url + GROUPS + path, data={"csrf_token": token, **data}, allow_redirects=False)
        assert refused.status_code == 403, path
    assert [g.display_name for g in _groups(seed.tenant.id)] == ["Finance"] and not _member_ids(group.id)


def test_a_groups_administrator_manages_groups_and_csrf_is_required(live, seed):
    agent = reader_agent(live, seed, role=Roles.GROUPS_ADMIN, upn="groups@contoso.test")
    agent.go(GROUPS + "/new")
    no_token = agent.http.post(live.url + GROUPS + "/new", data={"displayName": "X"}, allow_redirects=False)
    assert no_token.status_code == 400 and not _groups(seed.tenant.id)
    agent.submit("/groups/new", displayName="Engineering")
    assert [g.display_name for g in _groups(seed.tenant.id)] == ["Engineering"]


def test_dead_ends_link_to_creating_a_group(live, seed):
    agent = admin_agent(live, path=f"/contoso.test/admin/users/{seed.alice.id}")
    link = '<a href="/contoso.test/admin/groups/new" id="create-a-group">'
    assert "There are no other groups to add this user to." in agent.text() and link in agent.page.text
    agent.go("/contoso.test/admin/policies/Fido2")
    assert "There are no groups yet." in agent.text() and link in agent.page.text
    group = directory.create_group(seed.tenant, "Sales")
    directory.add_member(group, seed.alice)
    db.session.commit()
    agent.go(f"/contoso.test/admin/users/{seed.alice.id}")  # the user's groups lead to their pages
    assert f'<a href="/contoso.test/admin/groups/{group.id}">Sales</a>' in agent.page.text
