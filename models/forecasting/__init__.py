"""Demand forecasts: daily units per SKU (and per SKU x warehouse) for the next weeks, with
prediction intervals; seasonal naive (the baseline), AutoETS per series and one global LightGBM;
a rolling-origin backtest; MLflow with a champion; gold tables and reorder suggestions."""
