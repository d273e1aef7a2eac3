"""The console's Groups in headless Chromium: from the left navigation, create a group, add a member by user
principal name, find it in a method policy's group picker, and delete it after the confirmation."""

import pytest
from selenium.webdriver.common.by import By
from sqlalchemy import select

from idp.directory.models import Group, GroupMember
from idp.extensions import db

from .browser import heading, press
from .test_browser_console_pages import ADMIN, _shoot_both_languages, _signed_in_admin, _type

pytestmark = pytest.mark.browser


def test_create_a_group_add_a_member_pick_it_in_a_policy_and_delete_it(live, seed, browser):
    _signed_in_admin(browser, live)
    browser.get(f"{live.url}{ADMIN}/")
    press(browser, "//nav[@class='console-nav']//a[normalize-space()='Groups']", By.XPATH)
    assert heading(browser) == "Groups"
    press(browser, "#new-group")
    _type(browser, "f-displayName", "Sales")
    _type(browser, "f-description", "Everyone in sales")
    press(browser, "#create-group")
    assert heading(browser) == "Sales" and "Group Sales created." in browser.find_element(By.ID, "flash-ok").text
    _type(browser, "f-member", "alice@contoso.test")
    press(browser, "#add-member")
    assert "alice@contoso.test added" in browser.find_element(By.ID, "flash-ok").text
    group_url = browser.current_url.split("#")[0]
    _shoot_both_languages(browser, live.url, group_url.removeprefix(live.url), "group")
    _shoot_both_languages(browser, live.url, f"{ADMIN}/groups", "groups")
    db.session.expire_all()
    (group,) = db.session.scalars(select(Group)).all()
    assert db.session.scalars(select(GroupMember.user_id)).all() == [seed.alice.id]

    browser.get(f"{live.url}{ADMIN}/policies/Fido2")
    assert browser.find_element(By.CSS_SELECTOR, f"input[name='include'][value='{group.id}']")

    browser.get(group_url)
    browser.find_element(By.ID, "delete-group").click()  # the question opens; only its button deletes
    press(browser, "//section[@aria-labelledby='h-delete']//button[@value='yes']", By.XPATH)
    assert heading(browser) == "Groups" and "Group Sales deleted." in browser.find_element(By.ID, "flash-ok").text
    db.session.expire_all()
    assert not db.session.scalars(select(Group)).all()
