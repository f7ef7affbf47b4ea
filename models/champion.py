"""The champion rule, shared by recommendations and forecasts: a new version takes the
`champion` alias only when it beats both the baseline and the current champion."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Decision:
    promote: bool
    reason: str


def decide(
    candidate: float,
    baseline: float,
    champion: float | None,
    *,
    higher_is_better: bool,
    metric: str,
) -> Decision:
    """Promote only a strict improvement over the baseline and over the champion (if any)."""

    def better(a: float, b: float) -> bool:
        return a > b if higher_is_better else a < b

    if not better(candidate, baseline):
        return Decision(
            False, f"{metric} {candidate:.4f} does not beat the baseline {baseline:.4f}"
        )
    if champion is not None and not better(candidate, champion):
        return Decision(
            False, f"{metric} {candidate:.4f} does not beat the champion's {champion:.4f}"
        )
    against = "no champion yet" if champion is None else f"champion {champion:.4f}"
    return Decision(True, f"{metric} {candidate:.4f} beats baseline {baseline:.4f} and {against}")
