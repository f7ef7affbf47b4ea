"""Batch Spark jobs over the lake: silver merges, reconcile, maintenance, the search reindex."""
