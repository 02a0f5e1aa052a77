"""The embedded public index: one SQLite file, FTS5 over names plus exact-match tag tokens.

- Every document has an FTS5 rowid ``rid = publish_date.toordinal() << 40 | pk``, where ``pk``
  is its row in ``docs``. Rowid order is therefore publish-date order: a query walks FTS5
  matches newest first and stops after one page instead of sorting every match (a common
  surname matches tens of thousands of entries at 1M documents). Ties within a day are ordered
  by id, with a small SQL sort of that day only. ``pk`` is the low bits, so no date-ordered
  b-tree is needed; ``docs`` is append-only and bulk loads stay sequential.
- ``docs_fts`` is an external-content FTS5 table over ``docs``. ``name_<party>`` holds one
  token per character of the normalized name (as ``normalize.name_tokens``) and ``bi_<party>``
  one token per pair of neighbouring characters, so any substring of a name is a phrase: of
  characters for a one-character query, of pairs for longer ones (pairs are far rarer, which
  makes a full name several times faster to find). "Starts with" is the phrase anchored with
  ``^``. A document fills the two columns of its party type only, so the person/org filter of
  a name search is a column filter: ANDing with a tag that 90% of documents carry would walk
  that tag's whole doclist.
- ``tags`` holds one token per exact criterion: the name's length and first characters ("exact
  name" is then "starts with" plus that tag), party type, court and area (ids into ``places``,
  with the party type appended), card key, card display and case number (in forms that keep
  equality exact). Identifiers live in FTS5 rather than in b-tree indexes because FTS5
  writes sorted segments, while an index on random hashes dirties a page per document that
  every commit rewrites to the WAL.
- Courts and areas are matched against ``places`` (a few thousand distinct names); the place
  ids found become ``tags`` tokens ORed together.
- Relevance is three tiers (exact name, starts with, the rest); a tier is only counted when a
  page starts beyond it. Totals without any filter come from counters kept in ``stats``.
- ``upsert`` inserts in chunks; while FTS5 indexes one chunk (a single statement, without the
  GIL) a worker thread prepares the next, and WAL checkpoints run in a thread of their own,
  so a bulk load uses both cores.
- No full ID number is ever stored: documents carry the masked form and a keyed hash only, and
  ``upsert`` refuses a person document whose display form is a full ID number.

The modules: ``schema`` (the file's layout), ``connection`` (the pool and the checkpointer),
``tokens`` (what a document is indexed under), ``documents`` (rows in, bodies out),
``planner`` (a query as FTS5 expressions), ``paging`` (one page of them) and ``backend``
(``SqliteFtsIndex``, the IndexBackend over them).
"""

from search_index.index.sqlite.backend import SqliteFtsIndex

__all__ = ["SqliteFtsIndex"]
