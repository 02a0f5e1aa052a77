"""API keys for media, republishers and units: asked for by mail (double opt-in), issued once,
kept only as a hash, counted per day and revocable by their owner or the administrator."""
