"""Airflow 3 DAGs, thin: each task calls a function that the `shoplake` command also calls."""
