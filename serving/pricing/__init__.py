"""Pricing and promotions: server-side cart pricing that explains every adjustment."""
