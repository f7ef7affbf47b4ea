"""Catalog: products, categories, and the Redis read cache."""
