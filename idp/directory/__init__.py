"""Tenants, verified domains, users, security groups and directory roles."""
