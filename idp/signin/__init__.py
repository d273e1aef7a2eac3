"""The sign-in flow: transactions, the engine that composes methods, SSO sessions and the pages."""
