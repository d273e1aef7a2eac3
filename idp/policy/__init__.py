"""The authentication methods policy: per tenant, one configuration per method (state, targets, settings)."""
