"""Resource endpoints of the admin API; importing this package registers them on the shared router."""
