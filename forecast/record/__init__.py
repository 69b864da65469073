"""What is public: the record of frontier training runs (``runs``), published forecasts
(``published``) and the open forecasting questions (``questions``), with their data files."""
