"""Entra's grants beyond Authlib's own: device code, on-behalf-of, ROPC, and certificate client assertions."""
