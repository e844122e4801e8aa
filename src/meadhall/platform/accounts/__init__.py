"""Accounts: users, onboarding, invites, sessions and tokens, API keys, password reset."""
