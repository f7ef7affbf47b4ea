"""Carts in Redis: versioned for multi-device edits, expiring, merged on login."""
