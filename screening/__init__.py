"""Screening: many names (each with an optional identifier) checked against the public list
at once, each match saying how it matched. The match API (portal/api_match.py) calls it; the
batch screening upload will too. It reads the list only through ``ListService.search``."""
