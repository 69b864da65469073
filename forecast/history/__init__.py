"""What already happened: the record of frontier runs, trend fits, backtests and calibration."""
