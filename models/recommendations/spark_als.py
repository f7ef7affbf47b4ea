"""Spark MLlib ALS, the scale-out path: the same weighted matrix, trained by Spark.

`recommendForAllUsers` does not filter what a user already has, so it is asked for n + k
items and the excluded ones are anti-joined away before the top n are kept.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from pyspark.sql import SparkSession
from pyspark.sql import functions as F
from pyspark.sql.window import Window

from models.recommendations.factorization import FactorParams


class SparkALS:
    name = "spark_als"

    def __init__(self, spark: SparkSession, model: object, n_items: int) -> None:
        self.spark = spark
        self.model = model
        self.n_items = n_items

    @classmethod
    def fit(cls, spark: SparkSession, weighted: sp.csr_matrix, params: FactorParams) -> SparkALS:
        from pyspark.ml.recommendation import ALS

        coo = weighted.tocoo()
        rows = list(
            zip(coo.row.tolist(), coo.col.tolist(), coo.data.astype(float).tolist(), strict=True)
        )
        ratings = spark.createDataFrame(rows, "user int, item int, weight double")
        als = ALS(
            rank=params.factors,
            maxIter=params.iterations,
            regParam=params.regularization,
            alpha=params.alpha,
            implicitPrefs=True,
            userCol="user",
            itemCol="item",
            ratingCol="weight",
            seed=params.seed,
            numUserBlocks=4,
            numItemBlocks=4,
            coldStartStrategy="drop",
        )
        return cls(spark, als.fit(ratings), weighted.shape[1])

    def recommend(self, rows: np.ndarray, n: int, exclude: sp.csr_matrix) -> np.ndarray:
        wanted = self.spark.createDataFrame([(int(r),) for r in rows], "user int")
        extra = int(np.diff(exclude[rows].indptr).max(initial=0))
        recs = self.model.recommendForUserSubset(wanted, n + extra)  # type: ignore[attr-defined]
        flat = recs.select("user", F.posexplode("recommendations").alias("pos", "rec")).select(
            "user", "pos", F.col("rec.item").alias("item")
        )
        coo = exclude[rows].tocoo()
        seen = self.spark.createDataFrame(
            list(zip(rows[coo.row].tolist(), coo.col.tolist(), strict=True)) or [(-1, -1)],
            "user int, item int",
        )
        kept = flat.join(seen, ["user", "item"], "left_anti")
        ranked = kept.withColumn(
            "rank", F.row_number().over(Window.partitionBy("user").orderBy("pos"))
        ).where(F.col("rank") <= n)
        out = np.full((len(rows), n), -1, dtype=np.int64)
        where = {int(r): i for i, r in enumerate(rows)}
        for row in ranked.collect():
            out[where[row.user], row["rank"] - 1] = row.item
        return out
