"""Mails in the recipient's language (subject too), over a real SMTP server; error pages in the page's language."""

from email.header import decode_header, make_header

from idp.directory import service as directory
from idp.extensions import db

from .smtp import wait_for
from .support import Agent
from .test_guests import GUEST, invite, open_invitation
from .test_mfa_settings import SECTIONS, at_oath_step, with_totp


def subject(message) -> str:
    return str(make_header(decode_header(message["Subject"])))


def body(message) -> str:
    return message.get_payload(decode=True).decode()


def guest_user(seed):
    db.session.expire_all()
    return directory.find_by_sign_in_name(seed.tenant, GUEST)


def test_code_mail_follows_the_guests_preferred_language(live, seed, smtp):
    graph, response = invite(live, seed, send=False)
    guest = response.json()["invitedUser"]["id"]
    directory.update_user(guest_user(seed), {"preferredLanguage": "ja-JP"})  # what Graph's PATCH calls
    db.session.commit()
    assert graph("GET", f"/users/{guest}").json()["preferredLanguage"] == "ja-JP"
    agent = open_invitation(live, response.json()["inviteRedeemUrl"])  # an English browser
    agent.submit("/login/method/email_otp", action="send")
    assert wait_for(lambda: smtp.to(GUEST))
    mail = smtp.to(GUEST)[-1]
    assert subject(mail) == "Contoso アカウントの確認コード"
    text = body(mail)
    assert "Contoso アカウントの確認コード:" in text and "有効期限は 30 分です。" in text
    assert "招待者: Admin。" in text and "verification code" not in text
    agent.submit("/login/method/email_otp", otc=smtp.last_code(GUEST))
    assert guest_user(seed).external_user_state == "Accepted"  # the Japanese mail's code signs in


def test_without_a_preference_the_code_mail_follows_the_page(live, seed, smtp):
    _, response = invite(live, seed, send=False)
    agent = open_invitation(live, response.json()["inviteRedeemUrl"])
    agent.http.headers["Accept-Language"] = "ja,en;q=0.5"
    agent.submit("/login/method/email_otp", action="send")
    assert wait_for(lambda: smtp.to(GUEST))
    assert subject(smtp.to(GUEST)[-1]) == "Contoso アカウントの確認コード"
    assert f"{GUEST} にコードを送信しました。有効期限は 30 分です。" in agent.text()  # the step's notice too
    agent.submit("/login/method/email_otp", otc="00000000" if smtp.last_code(GUEST) != "00000000" else "11111111")
    assert "そのコードは正しくありません。最新のメールを確認して、もう一度お試しください。" in agent.text()
    del agent.http.headers["Accept-Language"]
    agent.submit("/login/method/email_otp", action="send")
    assert wait_for(lambda: len(smtp.to(GUEST)) == 2)
    assert subject(smtp.to(GUEST)[-1]) == "Contoso account verification code"
    assert "It expires in 30 minutes." in body(smtp.to(GUEST)[-1])


def test_invitation_mail_in_its_message_language(live, seed, smtp):
    _, response = invite(live, seed, invitedUserMessageInfo={"messageLanguage": "ja-JP"})
    assert response.status_code == 201, response.text
    assert wait_for(lambda: smtp.to(GUEST))
    mail = smtp.to(GUEST)[0]
    assert subject(mail) == "Contoso に招待されました"
    assert "招待を承諾する: " + response.json()["inviteRedeemUrl"] in body(mail)
    _, refused = invite(live, seed, address="x@partner.example", invitedUserMessageInfo={"messageLanguage": "日本"})
    assert refused.status_code == 400


def test_invitation_mail_without_a_language_is_english(live, seed, smtp):
    invite(live, seed)
    assert wait_for(lambda: smtp.to(GUEST))
    assert subject(smtp.to(GUEST)[0]) == "You're invited to Contoso"


def test_fraud_alert_in_the_administrators_language(app, live, seed, smtp, graph_as):
    with_totp(seed.alice)
    seed.admin.preferred_language = "ja"
    db.session.commit()
    apa = graph_as("apa")
    recipients = {"recipients": ["admin@contoso.test", "secops@contoso.test"]}
    assert apa("PATCH", f"{SECTIONS}/notifications", recipients).status_code == 204
    _, agent = at_oath_step(live, seed)
    agent.submit("/login/report")
    assert wait_for(lambda: smtp.to("admin@contoso.test") and smtp.to("secops@contoso.test"))
    japanese, english = smtp.to("admin@contoso.test")[0], smtp.to("secops@contoso.test")[0]
    assert subject(japanese) == "不正アクセスのアラート: alice@contoso.test"
    assert "ユーザーは 90 日間 MFA をブロックされました" in body(japanese)
    assert subject(english) == "Fraud alert: alice@contoso.test"
    assert "blocked from MFA for 90 days" in body(english)


def test_error_pages_in_japanese(live, seed):
    agent = Agent(live.url)
    agent.http.headers["Accept-Language"] = "ja"
    agent.go("/contoso.test/oauth2/v2.0/authorize?client_id=00000000-0000-0000-0000-000000000000&response_type=code")
    assert agent.page.status_code == 400
    text = agent.text()
    assert "このサインイン要求は無効です" in text, text
    assert "このクライアントはこのサーバーに存在しません。" in text and "AADSTS700016" in text
    agent.go("/contoso.test/no-such-page")
    assert agent.page.status_code == 404 and "見つかりません" in agent.text()
    assert "要求された URL はサーバー上に見つかりませんでした。" in agent.text()
    agent.go("/error?code=AADSTS50057")
    assert "ユーザー アカウントは無効になっています。" in agent.text()
    del agent.http.headers["Accept-Language"]
    agent.go("/contoso.test/no-such-page")
    assert "Not Found" in agent.text() and "見つかりません" not in agent.text()


def test_sign_in_errors_in_japanese(live, seed):
    agent = Agent(live.url)
    agent.http.headers["Accept-Language"] = "ja"
    agent.go("/contoso.test/mysecurityinfo/")
    agent.submit("/login", username="alice@contoso.test")
    agent.submit("/login/method/password", password="wrong")
    assert agent.page.status_code in (400, 401) or "password" in agent.page.url
    assert "アカウントまたはパスワードが正しくありません。" in agent.text()


def test_preferred_language_is_checked(seed):
    import pytest

    with pytest.raises(directory.DirectoryError):
        directory.update_user(seed.alice, {"preferredLanguage": "<script>"})
    directory.update_user(seed.alice, {"preferredLanguage": "ja"})
    assert seed.alice.preferred_language == "ja"
