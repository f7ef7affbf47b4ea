"""Payments: the gateway interface, its sandbox and Stripe implementations, resilience."""
