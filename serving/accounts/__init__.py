"""Accounts: registration, tokens, profile and addresses."""
