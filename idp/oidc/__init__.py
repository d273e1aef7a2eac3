"""OpenID Connect and OAuth 2.0: the Authlib server, grants, claims, keys/JWKS, token lifetimes and revocation."""
