"""Recommendation and demand-forecast models, their evaluation, MLflow logging and publishing.

MLflow reads its telemetry switch once, when it is imported: the layer turns it off first.
"""

from shoplake.config import disable_telemetry

disable_telemetry()
