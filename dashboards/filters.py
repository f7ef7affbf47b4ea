"""The sidebar's filters, shared by every page: a date range and categories."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import streamlit as st

from dashboards import data


@dataclass(frozen=True)
class Filters:
    first: date
    last: date
    categories: tuple[str, ...]


def sidebar(*, with_categories: bool = True, default_days: int = 90) -> Filters | None:
    """The filters as the analyst set them; None (with a note) when no mart is built yet."""
    try:
        bounds = data.date_bounds()
    except data.MartsMissing:
        st.info("No marts yet: build them with `shoplake gold build`.")
        return None
    if bounds is None:
        st.info("The marts are empty: simulate a history (`shoplake simulate history`).")
        return None
    first, last = bounds
    st.sidebar.header("Filters")
    start = max(first, last - timedelta(days=default_days))
    chosen = st.sidebar.date_input(
        "Dates", value=(start, last), min_value=first, max_value=last, key="dates"
    )
    # A range while the analyst has picked its first day only has one day.
    days = [d for d in (chosen if isinstance(chosen, tuple) else (chosen,)) if d is not None]
    begin, end = (days[0], days[-1]) if days else (start, last)
    picked: list[str] = []
    if with_categories:
        picked = st.sidebar.multiselect("Categories", data.categories(), key="categories")
    return Filters(begin, end, tuple(picked))
