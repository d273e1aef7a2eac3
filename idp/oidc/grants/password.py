"""ROPC (`grant_type=password`) as Entra allows it for test automation: off unless the app registration turns it
on, only for a member whose sign-in needs no second factor, never for guests. The password step is the pages'
own (the flow engine, its guards and sign-in log), and failures count against the same per-account limit as the
password page, so the grant is no way around it."""

from datetime import timedelta

from authlib.oauth2.rfc6749 import grants
from authlib.oauth2.rfc6749.errors import InvalidGrantError
from flask import current_app, request
from limits import parse

from ... import clock, methods
from ...directory import service as directory
from ...extensions import db, limiter
from ...signin import flow, verification
from ...signin.models import SigninSession, SigninTransaction, Step
from .. import entra_errors, tokens
from ..clients import check_scope

#: the password page's per-account limit (signin.views.method_step): same numbers, same bucket
ACCOUNT_LIMIT = parse("10 per 5 minutes")
PAGE_SCOPE = "signin.method_step"


def _bucket(tenant_id: str, upn: str) -> list[str]:
    args = [f"signin-account:{tenant_id}:{upn}", PAGE_SCOPE]
    return [limiter._key_prefix, *args] if limiter._key_prefix else args


def _refuse(code: int, detail: str = ""):
    return entra_errors.entra(InvalidGrantError, code, detail)


class PasswordGrant(grants.ResourceOwnerPasswordCredentialsGrant):
    TOKEN_ENDPOINT_AUTH_METHODS = ["private_key_jwt", "client_secret_basic", "client_secret_post", "none"]

    def validate_requested_scope(self):
        check_scope(self)

    def authenticate_user(self, username, password):
        client = self.request.client or self.server.query_client(self.request.payload.client_id)
        tenant = client.tenant
        upn = username.strip().lower()[:320]
        user = directory.find_by_sign_in_name(tenant, upn)
        if user is not None and user.user_type == "Guest":
            raise _refuse(50020, "Guests sign in interactively, with their own organization or a one-time code.")
        counted = limiter.enabled and limiter.limiter is not None
        if counted and not limiter.limiter.test(ACCOUNT_LIMIT, *_bucket(tenant.id, upn)):
            raise _refuse(50053)
        txn = SigninTransaction(
            tenant_id=tenant.id,
            client_id=client.id,
            methods_done=[],
            amr=[],
            data={},
            expires_at=clock.now() + timedelta(minutes=5),
        )
        if client.required_strength_id:
            txn.strength_id = client.required_strength_id
        db.session.add(txn)
        db.session.commit()
        flow.identify(txn, upn)
        result = verification.submit(txn, methods.get("password"), {"password": password})
        if not result.ok:
            if counted:
                limiter.limiter.hit(ACCOUNT_LIMIT, *_bucket(tenant.id, upn))
            if txn.user is not None and not txn.user.account_enabled:
                raise _refuse(50057)
            if txn.state == Step.DONE:  # a sign-in guard (e.g. a high-risk user) refused it
                raise entra_errors.entra(InvalidGrantError, 53003, result.error or "")
            raise _refuse(50126)
        if txn.state == Step.MFA:
            registered = flow.choices(txn, stage="mfa")
            raise _refuse(50076 if registered else 50079)
        return tokens.Principal(txn.user, self._session(txn), "sfa")

    @staticmethod
    def _session(txn) -> SigninSession:
        """A sign-in session without a browser: it carries the grant's tokens and can be revoked like any."""
        now = clock.now()
        session = SigninSession(
            tenant_id=txn.tenant_id,
            user_id=txn.user_id,
            auth_time=now,
            methods=["password"],
            amr=["pwd"],
            acr="sfa",
            not_after=txn.not_after,
            persistent=False,
            expires_at=now + timedelta(seconds=current_app.config["IDP_SSO_LIFETIME"]),
            ip=request.remote_addr,
        )
        flow.end(txn)  # the grant is the whole sign-in: no browser step follows
        db.session.add(session)
        db.session.commit()
        return session
