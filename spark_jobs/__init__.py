"""Batch Spark jobs over the lake; spark_jobs.session is the one session factory."""
