"""Workspace administration under /admin (administrators only): users, departments,
roles and their members, everyone's API keys, and each app's permission sets."""
