"""Bulk imports of products and stock from CSV and JSON Lines, row by row through the same
schemas and services as the API, in one streaming pass."""
