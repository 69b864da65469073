"""How forecasts are judged against what happened: the trend fit (``trend_fit``, ``nuts``),
calibration against the record (``calibrate``), scoring rules (``scoring``), backtests
(``backtest``) and bottom-up hindcasts (``hindcast``)."""
