"""Watches: a subscriber follows a credit code, a name plus ID number (its keyed hash only)
or a saved search, and gets one alert per matching change of the list, written to the
outbox in the same transaction as the watches' progress mark."""
