"""Microsoft's Graph SDKs (msgraph-sdk, msgraph-beta-sdk) pointed at a live test server with one of its tokens."""

import asyncio

from kiota_abstractions.authentication import (
    AccessTokenProvider,
    AllowedHostsValidator,
    BaseBearerTokenAuthenticationProvider,
)


class StaticToken(AccessTokenProvider):
    """Hands the SDK a token this server issued (the SDK's own credential classes speak to Entra's hosts)."""

    def __init__(self, token: str):
        self.token = token

    async def get_authorization_token(self, uri, additional_authentication_context=None) -> str:
        return self.token

    def get_allowed_hosts_validator(self) -> AllowedHostsValidator:
        return AllowedHostsValidator([])


def client(base_url: str, token: str, beta: bool = False):
    """A GraphServiceClient whose requests go to `base_url`/v1.0 (or /beta) instead of graph.microsoft.com."""
    if beta:
        from msgraph_beta import GraphRequestAdapter, GraphServiceClient
    else:
        from msgraph import GraphRequestAdapter, GraphServiceClient
    adapter = GraphRequestAdapter(BaseBearerTokenAuthenticationProvider(StaticToken(token)))
    adapter.base_url = f"{base_url}/{'beta' if beta else 'v1.0'}"
    return GraphServiceClient(request_adapter=adapter)


def run(coroutine_function, *args):
    """Run an async SDK scenario to completion (each scenario builds its clients inside its own loop)."""
    return asyncio.run(coroutine_function(*args))
