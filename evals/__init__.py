"""Gold sets, metrics, reports and the regression gate."""
