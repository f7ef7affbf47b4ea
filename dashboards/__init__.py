"""The analysts' dashboards: a Streamlit app over the gold marts, read with DuckDB (delta-rs).

A layer beside serving, streaming and the batch jobs: it reads the lake through the kernel
(`shoplake.duck`) and the quality gates' results from the gold folder, and imports nothing of
the layers beside it. `shoplake dashboards` runs it; `shoplake stack up` runs it as a service.
"""
