"""The dashboards' entry point: one page per question, filters in the sidebar.

Run with `shoplake dashboards` (or the stack's `dashboards` service); Streamlit's usage
statistics are off (the command passes `--browser.gatherUsageStats false`).
"""

from __future__ import annotations

from pathlib import Path

import streamlit as st

# Not `pages/`: Streamlit would also serve a folder of that name as pages of its own.
PAGES = Path(__file__).resolve().parent / "views"

st.set_page_config(page_title="shoplake analytics", page_icon="📊", layout="wide")
navigation = st.navigation(
    [
        st.Page(PAGES / "sales.py", title="Sales overview", url_path="sales", default=True),
        st.Page(PAGES / "funnel.py", title="Funnel", url_path="funnel"),
        st.Page(PAGES / "customers.py", title="Customers", url_path="customers"),
        st.Page(PAGES / "inventory.py", title="Inventory health", url_path="inventory"),
        st.Page(PAGES / "search.py", title="Search", url_path="search"),
        st.Page(PAGES / "data_health.py", title="Data health", url_path="data_health"),
    ]
)
navigation.run()
