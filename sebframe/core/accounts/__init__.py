"""Institutions, user accounts, roles and privileges, sign-in, API tokens and the user activity log."""
