"""A service's refusal on a page is said in the reader's language, from its stable reason (ServiceError.reason_id):
what went wrong and what to do. The service's English, which names Graph's properties, stays the Graph API's."""

import html
import re

import pytest
from flask_babel import force_locale

from idp.directory import service as directory
from idp.errors import ServiceError
from idp.extensions import db
from idp.methods.tap import service as tap_service
from idp.ui import refusal_text

from .support import PASSWORD, Agent, enable_method, password_sign_in
from .test_console_pages import admin_agent

ADMIN = "/contoso.test/admin"


def _csrf(agent) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', agent.page.text).group(1)


def _english_gone(page: str, *english: str) -> None:
    assert '<span lang="en"' not in page  # no English detail beside the sentence
    text = html.unescape(re.sub(r"<[^>]+>", " ", page))
    for words in ("Property '", "must be", *english):
        assert words not in text, words


@pytest.mark.parametrize(
    "form, japanese, english",
    [
        (
            {"lifetime": "5"},
            "有効期間は、一時アクセス パスのポリシーで許可されている 60 ～ 480 分にする必要があります。",
            "lifetimeInMinutes",
        ),
        ({"lifetime": "soon"}, "60 ～ 480 分", "lifetimeInMinutes"),
        ({"start": "2001-01-01T09:00"}, "開始が過去の日時になっています。", "startDateTime"),
        ({"start": "2999-01-01T09:00"}, "開始が先すぎます。今から 365 日以内の日時を選んでください。", "days ahead"),
        ({"start": "next tuesday"}, "開始を日付と時刻で入力してください。", "ISO 8601"),
    ],
)
def test_a_refused_temporary_access_pass_says_why_in_japanese(live, seed, form, japanese, english):
    enable_method(seed.tenant.id, "TemporaryAccessPass")
    agent = admin_agent(live, lang="ja", path=f"{ADMIN}/users/{seed.alice.id}")
    refused = agent.submit("/tap", **form)
    assert refused.status_code == 400 and "<h1>一時アクセス パスは作成されませんでした</h1>" in refused.text
    assert japanese in agent.text()
    _english_gone(refused.text, english)


def test_the_same_refusal_keeps_its_english_for_graph_and_reads_plainly_in_english(live, seed):
    enable_method(seed.tenant.id, "TemporaryAccessPass")
    with pytest.raises(tap_service.TapError, match="Property 'lifetimeInMinutes' must be between 60 and 480"):
        tap_service.create(seed.alice, None, lifetime=5)  # Graph's words: unchanged
    agent = admin_agent(live, lang="en", path=f"{ADMIN}/users/{seed.alice.id}")
    agent.submit("/tap", lifetime="5")
    assert "The lifetime must be 60 to 480 minutes" in agent.text() and "Property '" not in agent.page.text


def test_a_policy_that_allows_one_time_passes_only_says_so_in_japanese(app, seed):
    from idp.policy import service as policy

    enable_method(seed.tenant.id, "TemporaryAccessPass")
    config = policy.get(seed.tenant.id, "TemporaryAccessPass")
    config.settings["isUsableOnce"] = True
    policy.save(seed.tenant.id, config)
    db.session.commit()
    with pytest.raises(tap_service.TapError) as refused:
        tap_service.create(seed.alice, None, usable_once=False)
    assert "'isUsableOnce' must be true" in refused.value.message
    with app.test_request_context(), force_locale("ja"):
        assert refusal_text(refused.value).startswith("一時アクセス パスのポリシーでは、1 回限りのパスしか")


def _strength_post(agent, live, pairs):
    return agent.http.post(
        f"{live.url}{ADMIN}/authentication-strengths/new", data=[("csrf_token", _csrf(agent)), *pairs]
    )


def test_authentication_strength_refusals_are_in_japanese_only(live, seed):
    agent = admin_agent(live, lang="ja", path=f"{ADMIN}/authentication-strengths/new")
    limit = _strength_post(
        agent, live, [("displayName", "Keys"), ("combination", "password,sms"), ("allowedAAGUIDs", "not-a-guid")]
    )
    assert limit.status_code == 400
    assert "「パスキー (FIDO2)」の組み合わせも許可してください。" in limit.text
    bad = _strength_post(agent, live, [("displayName", "Keys"), ("combination", "fido2"), ("allowedAAGUIDs", "x")])
    assert "cb69481e-8ff7-4039-93ec-0a2729a154a8 のような AAGUID" in bad.text
    taken = _strength_post(agent, live, [("displayName", "Passwordless MFA"), ("combination", "fido2")])
    assert taken.status_code == 400 and "Passwordless MFA という名前の認証強度はすでにあります。" in taken.text
    for page in (limit, bad, taken):
        _english_gone(page.text, "AAGUIDs", "already exists", "appliesToCombinations")


@pytest.mark.parametrize(
    "ranges, japanese",
    [
        ("10.0.0.0/8", "10.0.0.0/8 にはプライベート アドレスまたは予約済みアドレス (10.0.0.0/8) が含まれています。"),
        ("81.0.0.0/7", "81.0.0.0/7 は範囲が広すぎます。プレフィックス長を /8 以上にして"),
        ("here", "here は CIDR 表記の IP 範囲ではありません。"),
    ],
)
def test_named_location_refusals_are_in_japanese_only(live, seed, ranges, japanese):
    agent = admin_agent(live, lang="ja", path=f"{ADMIN}/locations/new")
    refused = agent.submit("/locations/new", displayName="Branch", ipRanges=ranges)
    assert refused.status_code == 400 and japanese in agent.text() and 'id="f-ipRanges-error"' in refused.text
    _english_gone(refused.text, "cidrAddress", "CIDR notation", "only public address ranges")


def test_an_invitation_to_a_members_address_is_refused_in_japanese(live, seed):
    agent = admin_agent(live, lang="ja", path=f"{ADMIN}/users/invite")
    agent.submit("/users/invite", address="alice@contoso.test", name="Alice", redirect="https://app.example/")
    assert agent.page.status_code == 400
    assert "そのアドレスはこの組織のメンバーのものです。" in agent.text()
    agent.submit("/users/invite", address="gail@fabrikam.example", name="Gail", redirect="ftp://app.example/")
    assert "https:// (または http://) から入力してください。" in agent.text()
    _english_gone(agent.page.text, "belongs to a member", "inviteRedirectUrl")


def test_blocking_a_user_twice_is_refused_in_japanese(live, seed):
    agent = admin_agent(live, lang="ja", path=f"{ADMIN}/mfa/block")
    agent.submit("/admin/mfa/block", upn="alice@contoso.test", reason="Phone stolen")
    agent.submit("/admin/mfa/block", upn="alice@contoso.test", reason="Again")
    text = agent.text()
    assert "alice@contoso.test は" in text and "まで MFA をすでにブロックされています。" in text
    _english_gone(agent.page.text, "already blocked", "Unblock first")


def test_a_wrong_authenticator_app_code_is_refused_in_japanese(live, seed):
    enable_method(seed.tenant.id, "SoftwareOath")
    agent = Agent(live.url)
    agent.http.cookies.set("idp_lang", "ja")
    agent.go("/contoso.test/mysecurityinfo/")
    password_sign_in(agent, "alice@contoso.test", PASSWORD)
    agent.go("/contoso.test/mysecurityinfo/oath/app")
    agent.submit("", code="000000")  # the form posts back to the page
    assert agent.page.status_code == 400
    assert "そのコードはこのトークンのコードとして正しくありません。" in agent.text()
    assert "not valid for this token" not in agent.page.text


def test_a_directory_refusal_on_the_user_page_is_in_japanese(live, seed):
    agent = admin_agent(live, lang="ja", path=f"{ADMIN}/users/{seed.alice.id}")
    agent.submit("/profile", jobTitle="Chief\x07Officer")
    assert agent.page.status_code == 400 and "この値から改行と制御文字を取り除いてください。" in agent.text()
    _english_gone(agent.page.text, "control characters", "jobTitle")


def test_a_refusal_without_a_sentence_gets_a_general_japanese_one_never_english(app):
    unknown = ServiceError("Property 'frobnicate' is not valid.", 409, reason_id="nobody.said.this")
    plain = ServiceError("Some English only a Graph client reads.")
    with app.test_request_context(), force_locale("ja"):
        assert refusal_text(unknown) == "既にあるものと競合しています。内容を変更して、もう一度お試しください。"
        assert refusal_text(plain, fallback="名前を入力してください。") == "名前を入力してください。"
    with app.test_request_context(), force_locale("en"):
        assert refusal_text(plain) == "Some English only a Graph client reads."


def test_every_registered_reason_has_japanese(app):
    from babel.messages.pofile import read_po

    from idp import i18n, ui

    with (i18n.CATALOGUES / "ja" / "LC_MESSAGES" / "messages.po").open("rb") as po:
        catalogue = read_po(po, locale="ja")
    assert len(ui._SENTENCES) > 40
    missing = [
        key for key, sentence in ui._SENTENCES.items() if not getattr(catalogue.get(sentence._args[0]), "string", None)
    ]
    assert not missing, missing


def test_the_users_page_refusal_path_names_no_graph_property_in_japanese(app, seed):
    with pytest.raises(directory.DirectoryError) as refused:
        directory.update_user(seed.alice, {"preferredLanguage": "Japanese"})
    db.session.rollback()
    with app.test_request_context(), force_locale("ja"):
        assert refusal_text(refused.value) == "ja-JP や en-US のような言語タグを入力してください。"


def test_the_console_refuses_a_member_in_japanese(live, seed):
    agent = admin_agent(live, upn="alice@contoso.test", lang="ja")
    assert agent.page.status_code == 403
    assert "管理センターは、管理者ロールを持つユーザー向けです。" in agent.text()
    assert "administrator role" not in agent.text()
