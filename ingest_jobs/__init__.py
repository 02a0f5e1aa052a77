"""Long ingest batches run in the background (``Prefer: respond-async``): each kept, parsed,
before the 202; run by the portal's background loop, resumed after a restart; read back only
by the token that sent it."""
