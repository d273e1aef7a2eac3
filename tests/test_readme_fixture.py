"""The README's fixture script (docs/graph_fixtures.py), run against a live server; the README shows the file."""

import asyncio
import re
import runpy
from pathlib import Path

import requests

from idp.directory import service as directory

from .test_graph_applications import claims, token_for
from .test_graph_directory import ga_token, tool  # noqa: F401  (fixtures)

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "docs" / "graph_fixtures.py"


def test_the_readme_shows_the_fixture_script_word_for_word():
    text = (ROOT / "README.md").read_text()
    match = re.search(r"<!-- fixture-script: docs/graph_fixtures.py -->\n```python\n(.*?)\n```", text, re.S)
    assert match, "README.md lost its fixture script"
    assert match.group(1) == SCRIPT.read_text().rstrip("\n")


def test_the_fixture_script_sets_up_a_user_a_group_an_app_with_a_permission_and_reads_sign_ins(
    live,
    seed,
    tool,
    ga_token,  # noqa: F811
):
    fixtures = runpy.run_path(str(SCRIPT))["fixtures"]
    made = asyncio.run(fixtures(live.url, ga_token))
    user = directory.find_user(seed.tenant, "test.user@contoso.test")
    assert user is not None and user.id == made["user"]
    assert directory.is_member(directory.find_group(seed.tenant, "Testers"), user)
    token = token_for(live.url, made["client_id"], made["client_secret"]).json()["access_token"]
    assert claims(token)["roles"] == ["User.Read.All"]
    listed = requests.get(f"{live.url}/v1.0/users/test.user@contoso.test", headers={"Authorization": f"Bearer {token}"})
    assert listed.status_code == 200 and listed.json()["displayName"] == "Test User"
    assert ("admin@contoso.test", tool[0], 0) in made["sign_ins"]  # the administrator's own sign-in, a success
