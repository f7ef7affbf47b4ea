"""Silver: one MERGE job per entity, from bronze.events into typed, deduplicated tables."""
