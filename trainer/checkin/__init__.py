"""Check-in at every bridge point, live attendance, site presence and the roll-call of sites."""
