"""How this server names itself and its users to apps: the base URL, a tenant's issuer, the pairwise subject.
It imports nothing of the OIDC server, so claims, grants and the Graph shell share it without importing tokens."""

import base64
import hashlib

from .. import urls
from ..directory.models import Tenant


def base_url() -> str:
    return urls.base_url()


def issuer(tenant: Tenant | str) -> str:
    tenant_id = tenant if isinstance(tenant, str) else tenant.id
    return f"{base_url()}/{tenant_id}/v2.0"


def pairwise_sub(user_id: str, client_id: str) -> str:
    """Entra's `sub` is pairwise: stable per user and app, different between apps."""
    digest = hashlib.sha256(f"{user_id}:{client_id}".encode()).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
