"""Payments: the gateway contract, its sandbox and Stripe adapters, their retries, and the
ledger of payments with the operations on it (capture, void, refund)."""
