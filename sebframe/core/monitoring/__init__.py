"""Views over live SEB connections for supervisors: the monitoring page, SEB client logs, participation."""
