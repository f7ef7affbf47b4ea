"""Recommendations, demand forecasts and their evaluation, tracked in MLflow (later issues)."""
