"""Concurrent uses of one refresh token: exactly one rotates, every other one is a reuse that revokes the
family, and none of them is a server error (a 5xx): concurrent reuses revoking the same family must not
deadlock each other (PostgreSQL's deadlock detector would answer one of them 503)."""

import threading

from .test_quick_path import basic, twin, user_tokens  # noqa: F401


def test_concurrent_uses_rotate_once_and_reuses_revoke_without_errors(app, seed, user_tokens):
    web = basic(seed.client_id, seed.client_secret)
    path = app.extensions["quick_path"]
    for round_ in range(8):
        path.enabled = round_ % 2 == 1  # both ways: the framework's grant and the path before it
        with app.app_context():
            token = twin(user_tokens["refresh_token"])
        statuses, new_tokens = [], []
        barrier = threading.Barrier(6)

        def use(token=token, barrier=barrier, statuses=statuses, new_tokens=new_tokens):
            barrier.wait()
            with app.app_context():
                answer = app.test_client().post(
                    "/contoso.test/oauth2/v2.0/token",
                    headers=web,
                    data={"grant_type": "refresh_token", "refresh_token": token},
                )
            statuses.append(answer.status_code)
            if answer.status_code == 200:
                new_tokens.append(answer.get_json()["refresh_token"])

        threads = [threading.Thread(target=use) for _ in range(6)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        path.enabled = True
        assert sorted(statuses) in ([200] + [400] * 5, [400] * 6), (round_, statuses)
        for new in new_tokens:  # the reuses revoked the family: the winner's successor too
            with app.app_context():
                again = app.test_client().post(
                    "/contoso.test/oauth2/v2.0/token",
                    headers=web,
                    data={"grant_type": "refresh_token", "refresh_token": new},
                )
            assert again.status_code == 400, round_
        with app.app_context():  # the next round's twin: a live row of a family not yet revoked
            from idp import crypto
            from idp.extensions import db
            from idp.oidc.models import Token

            table = Token.__table__
            db.session.execute(
                table.update()
                .where(table.c.refresh_token_hash == crypto.digest(user_tokens["refresh_token"]))
                .values(revoked_at=None, rotated_at=None, family_id=f"family-{round_}")
            )
            db.session.commit()
