"""Recommendations: popularity baselines, item co-occurrence, implicit-feedback factorisation
(the `implicit` library and Spark MLlib ALS), their holdout evaluation, MLflow tracking with a
champion, and publication of the lists into Redis."""
