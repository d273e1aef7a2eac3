"""What ending sign-in sessions means to the OIDC server: the tokens issued from them are void. `idp.wiring`
hands these to `signin.sessions` (its revocation hooks), which knows no tokens."""

from . import revocation
from .models import Token
from .tokens import revoke_where


def sessions_revoked(ids: list[str]) -> None:
    """Access tokens are not stored: void those issued from these sessions through the revocation state."""
    revocation.revoke(revocation.SESSION, ids)


def user_revoked(user) -> None:
    """Every refresh token of `user`, and their access tokens by their subject."""
    revoke_where(Token.user_id == user.id)
    revocation.revoke(revocation.USER, [user.id])
