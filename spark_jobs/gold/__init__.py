"""The gold layer: dbt marts on the Spark SQL endpoint, quality gates before and after them, the
finance reconciliation against Postgres, and the docs. Each step is a plain function
(`pipeline.build|test|gate|docs`) that the CLI (`shoplake gold ...`), the tests and an Airflow
task call alike."""
