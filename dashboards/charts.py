"""Altair charts in one style: the palette, the money axis, the tooltips."""

from __future__ import annotations

import altair as alt
import pandas as pd

PALETTE = ["#2563eb", "#f97316", "#10b981", "#a855f7", "#ef4444", "#14b8a6", "#eab308"]
PALETTE += ["#64748b", "#ec4899", "#84cc16"]


def _base(frame: pd.DataFrame) -> alt.Chart:
    return alt.Chart(frame).properties(height=320)


def revenue_trend(frame: pd.DataFrame) -> alt.LayerChart:
    """Net revenue per day as an area, its 7-day average as a line, holidays as rules."""
    base = _base(frame).encode(x=alt.X("order_date:T", title=None))
    area = base.mark_area(opacity=0.25, color=PALETTE[0]).encode(
        y=alt.Y("net_eur:Q", title="net revenue (EUR)"),
        tooltip=[
            alt.Tooltip("order_date:T", title="day"),
            alt.Tooltip("net_eur:Q", title="net (EUR)", format=",.2f"),
            alt.Tooltip("orders:Q", format=","),
        ],
    )
    line = base.mark_line(color=PALETTE[0], strokeWidth=2).encode(y="avg_7d_eur:Q")
    peaks = (
        _base(frame[frame["holiday_name"].notna()])
        .mark_rule(color=PALETTE[1], strokeDash=[4, 3])
        .encode(x="order_date:T", tooltip=["order_date:T", "holiday_name:N"])
    )
    return alt.LayerChart(layer=[area, line, peaks])


def stacked_bars(frame: pd.DataFrame, x: str, y: str, colour: str, title: str) -> alt.Chart:
    chart: alt.Chart = (
        _base(frame)
        .mark_bar()
        .encode(
            x=alt.X(f"{x}:T", title=None),
            y=alt.Y(f"{y}:Q", title=title, stack=True),
            color=alt.Color(f"{colour}:N", scale=alt.Scale(range=PALETTE), title=None),
            tooltip=[f"{x}:T", f"{colour}:N", alt.Tooltip(f"{y}:Q", format=",.2f")],
        )
    )
    return chart


def ranked_bars(frame: pd.DataFrame, label: str, value: str, title: str) -> alt.Chart:
    chart: alt.Chart = (
        _base(frame)
        .mark_bar(color=PALETTE[0], cornerRadiusEnd=3)
        .encode(
            y=alt.Y(f"{label}:N", sort="-x", title=None),
            x=alt.X(f"{value}:Q", title=title),
            tooltip=[f"{label}:N", alt.Tooltip(f"{value}:Q", format=",.2f")],
        )
    )
    return chart


def funnel(frame: pd.DataFrame) -> alt.LayerChart:
    """The funnel's steps as horizontal bars, each labelled with its share of sessions."""
    base = _base(frame).encode(
        y=alt.Y("step:N", sort=list(frame["step"]), title=None),
        x=alt.X("sessions:Q", title="sessions"),
    )
    bars = base.mark_bar(color=PALETTE[0], cornerRadiusEnd=3).encode(
        tooltip=[
            "step:N",
            alt.Tooltip("sessions:Q", format=","),
            alt.Tooltip("share:Q", format=".1%"),
        ]
    )
    labels = base.mark_text(align="left", dx=4).encode(text=alt.Text("share:Q", format=".1%"))
    return alt.LayerChart(layer=[bars, labels])


def rates(frame: pd.DataFrame, x: str, columns: list[str], title: str) -> alt.Chart:
    long = frame.melt(id_vars=[x], value_vars=columns, var_name="rate", value_name="value")
    chart: alt.Chart = (
        _base(long)
        .mark_line(point=False, strokeWidth=2)
        .encode(
            x=alt.X(f"{x}:T", title=None),
            y=alt.Y("value:Q", title=title, axis=alt.Axis(format="%")),
            color=alt.Color("rate:N", scale=alt.Scale(range=PALETTE), title=None),
            tooltip=[f"{x}:T", "rate:N", alt.Tooltip("value:Q", format=".1%")],
        )
    )
    return chart


def heatmap(frame: pd.DataFrame) -> alt.LayerChart:
    """Cohort retention: a cell per (cohort, months since first order), darker is more."""
    base = _base(frame).encode(
        x=alt.X("months_since_first:O", title="months since the first order"),
        y=alt.Y("cohort:O", title="cohort (first order)"),
    )
    cells = base.mark_rect().encode(
        color=alt.Color("retention_rate:Q", scale=alt.Scale(scheme="blues"), title="retained"),
        tooltip=[
            "cohort:O",
            "months_since_first:O",
            alt.Tooltip("retention_rate:Q", format=".1%"),
            alt.Tooltip("active_customers:Q", format=","),
        ],
    )
    text = base.mark_text(fontSize=11).encode(
        text=alt.Text("retention_rate:Q", format=".0%"),
        color=alt.condition(alt.datum.retention_rate > 0.5, alt.value("white"), alt.value("black")),
    )
    return alt.LayerChart(layer=[cells, text])


def scatter(frame: pd.DataFrame, x: str, y: str, colour: str, size: str) -> alt.Chart:
    chart: alt.Chart = (
        _base(frame)
        .mark_circle(opacity=0.7)
        .encode(
            x=alt.X(f"{x}:Q", title=x.replace("_", " ")),
            y=alt.Y(f"{y}:Q", title=y.replace("_", " ")),
            color=alt.Color(f"{colour}:N", scale=alt.Scale(range=PALETTE), title=None),
            size=alt.Size(f"{size}:Q", legend=None),
            tooltip=[f"{colour}:N", f"{x}:Q", f"{y}:Q", f"{size}:Q"],
        )
    )
    return chart


def donut(frame: pd.DataFrame, label: str, value: str) -> alt.Chart:
    chart: alt.Chart = (
        _base(frame)
        .mark_arc(innerRadius=70)
        .encode(
            theta=alt.Theta(f"{value}:Q"),
            color=alt.Color(f"{label}:N", scale=alt.Scale(range=PALETTE), title=None),
            tooltip=[f"{label}:N", alt.Tooltip(f"{value}:Q", format=",")],
        )
    )
    return chart


def histogram(frame: pd.DataFrame, column: str, title: str) -> alt.Chart:
    chart: alt.Chart = (
        _base(frame)
        .mark_bar(color=PALETTE[2])
        .encode(
            x=alt.X(f"{column}:Q", bin=alt.Bin(maxbins=30), title=title),
            y=alt.Y("count():Q", title="products"),
        )
    )
    return chart
