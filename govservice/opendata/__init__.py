"""政务公开 and open data: public pages and datasets, no sign-in, no session."""
