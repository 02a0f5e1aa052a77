"""Index backends behind one interface (``search_index.types.IndexBackend``)."""

from __future__ import annotations

from core.settings import Settings
from search_index.types import IndexBackend


def open_index(settings: Settings, *, bulk: bool = False) -> IndexBackend:
    """The backend the settings name: embedded SQLite FTS5 by default, or Meilisearch.
    ``bulk``: for the process that fills it beside ``shixin import`` (a larger page cache,
    ``SHIXIN_IMPORT_CACHE_MIB``)."""
    if settings.index_backend == "meili":
        from search_index.index.meili import MeiliIndex

        assert settings.meili_url is not None
        key = settings.meili_key.reveal() if settings.meili_key else None
        return MeiliIndex(settings.meili_url, key, settings.meili_index)
    from search_index.index.sqlite import SqliteFtsIndex

    settings.index_path.parent.mkdir(parents=True, exist_ok=True)
    cache_mib = settings.import_cache_mib if bulk else None
    return SqliteFtsIndex(settings.index_path, cache_mib=cache_mib)
