"""The public index on Meilisearch (>= 1.12: localizedAttributes, prefixSearch, facetSearch).

It answers like the SQLite backend (``search_index.index.sqlite``); design notes, checked
against the Meilisearch source and docs, some verifiable only against a live server
(``SHIXIN_TEST_MEILI_URL``):

* Names are searched as phrases over ``name_chars``: the name's letters and digits with a space
  between them. A phrase never does typos, prefixes or synonyms, so "张伟" cannot find "张纬",
  and it matches a contiguous run of characters. Meilisearch does not fold traditional to
  simplified characters, so only normalized forms are ever indexed.
* Ranking rules are per index, so one rule order cannot serve both orders we need: relevance
  (exact name, then names starting with the query, then the rest, each newest first) and plain
  newest first. Every query therefore sorts by (publish date desc, id), and relevance runs the
  three tiers as three queries, like the SQLite plan: exact is a filter on ``name_key``; "starts
  with" is a phrase beginning with NAME_START, the first word of every ``name_chars``; "the
  rest" is the contains phrase minus that one (Meilisearch's negative phrase operator).
* Court and region are "contiguous part of the name" filters. Filters have no substring operator
  except the experimental ``CONTAINS`` (an instance-wide flag needing the master key, flagged by
  its authors for performance). Searchable place attributes do not work either:
  ``attributesToSearchOn`` applies to the whole ``q``, so a court phrase would also match inside
  a debtor's name ("深圳华为" passing for court "深圳"). There are only a few thousand courts and
  a few dozen areas, so one facet request (cached briefly) reads their distinct values, Python
  matches the substring and ``court_key IN [...]`` filters: exact semantics, no experiments.
* Primary keys may only use ``[A-Za-z0-9_-]`` (511 bytes at most). Court ids that fit are used as
  they are; any other id is stored under ``"_" + sha256(id)``. Plain ids never start with "_",
  so a derived key cannot collide with one. The original id is always kept in ``entry_id``.
* A rebuild fills ``<index>_rebuild`` (same settings) while the live index serves, then swaps
  the two (``POST /swap-indexes``: one task, atomic for searches) and deletes the rebuild
  name, which then holds the old documents.
"""

from __future__ import annotations

import hashlib
import logging
import re
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any, TypeVar

import meilisearch
from meilisearch.errors import MeilisearchApiError
from meilisearch.models.task import Task, TaskInfo

from search_index.normalize import name_key, name_tokens, place_key
from search_index.types import CASE_FIELDS, IndexDoc, PartyType, SearchPage, SearchQuery, Sort

log = logging.getLogger(__name__)

# totalHits is min(matches, maxTotalHits) (search/mod.rs), so exact totals need a bound above
# the size of the public list (several million entries). The docs warn that values above 20,000
# can make queries slow: that cost comes from deep offsets, which the bound also permits, not
# from the bound itself; build_query caps pages at 500 × 100 results.
MAX_TOTAL_HITS = 20_000_000
# Courts number about 3,500; a longer facet list would silently drop places from court filters.
MAX_FACET_VALUES = 20_000
UPSERT_BATCH = 5_000  # documents per request, well under the 100 MB default payload limit
ID_BATCH = 1_000  # ids per "id IN [...]" filter
SCAN_PAGE = 10_000
PLACES_TTL_SECONDS = 60.0
# Every other word of name_chars is a single character, so no name can produce this one.
NAME_START = "namestart"
REBUILD_SUFFIX = "_rebuild"  # the index a rebuild fills before it is swapped in

# Attributes matched as whole values. None is searchable, so typos never apply to them; they
# are listed anyway so that making one searchable later cannot make it fuzzy.
IDENTIFIER_ATTRIBUTES = (
    "id",
    "entry_id",
    "party_type",
    "case_code",
    "card_key",
    "card_display",
    "card_masked_only",
    "name_key",
    "court_key",
    "area_key",
    "representative_key",
)

SETTINGS: dict[str, Any] = {
    "searchableAttributes": ["name_chars"],
    "filterableAttributes": [name for name in IDENTIFIER_ATTRIBUTES if name != "entry_id"]
    + ["publish_date"],
    # entry_id rather than the derived key, so ties follow the court's ids as in SQLite.
    "sortableAttributes": ["publish_date", "entry_id"],
    # Every query sorts, and (date, id) is unique: "sort" first decides the whole order.
    "rankingRules": ["sort", "words", "typo", "proximity", "attribute", "exactness"],
    "typoTolerance": {
        "enabled": False,
        "disableOnAttributes": ["name_chars", *IDENTIFIER_ATTRIBUTES],
    },
    # Without it short Han strings can be detected as Japanese and segmented differently.
    "localizedAttributes": [{"attributePatterns": ["name_chars"], "locales": ["cmn"]}],
    # Phrase words never use prefixes, and facet search is never used: both are wasted indexing.
    "prefixSearch": "disabled",
    "facetSearch": False,
    # Stop words become wildcards inside phrases and synonyms widen them; an index reused from
    # elsewhere must not keep either.
    "stopWords": [],
    "synonyms": {},
    "pagination": {"maxTotalHits": MAX_TOTAL_HITS},
    "faceting": {"maxValuesPerFacet": MAX_FACET_VALUES},
}

RETRIEVED = [
    "entry_id",
    "seq",
    "status",
    "party_type",
    "name",
    "name_norm",
    "case_code",
    "court_name",
    "area_name",
    "publish_date",
    "reg_date",
    "valid_until",
    "severity",
    "card_display",
    "card_key",
    "fields",
]
# Meilisearch compares strings case-blind, SQLite by bytes: ids differing only in case may tie
# differently.
DATE_ORDER = ["publish_date:desc", "entry_id:asc"]

_PLAIN_KEY = re.compile(r"[A-Za-z0-9-][A-Za-z0-9_-]{0,510}")
# A 15-digit (first generation) or 18-digit ID number; masked ones break the run with ****.
_FULL_ID_NUMBER = re.compile(r"\d{15}")

T = TypeVar("T")


class MeiliTaskFailed(RuntimeError):
    """A Meilisearch task ended in any state but "succeeded" (``wait_for_task`` does not raise)."""

    def __init__(self, task: Task) -> None:
        error = task.error or {}
        self.task_uid = task.uid
        self.code: str | None = error.get("code")
        message = error.get("message") or "no error message"
        super().__init__(f"Meilisearch task {task.uid} ({task.type}) {task.status}: {message}")


@dataclass(frozen=True, slots=True)
class Tier:
    """One Meilisearch query; a page of results runs through the tiers one after another."""

    q: str
    filters: list[str]


def doc_key(entry_id: str) -> str:
    """The Meilisearch primary key of an entry id."""
    if _PLAIN_KEY.fullmatch(entry_id):
        return entry_id
    return "_" + hashlib.sha256(entry_id.encode("utf-8")).hexdigest()


def quote(value: str) -> str:
    """A filter string literal. Inside double quotes Meilisearch (>= 1.4) unescapes ``\\"``
    and then ``\\\\``, so backslashes are doubled before quotes are escaped: no value can close
    the literal early and add filter syntax of its own."""
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def in_filter(attribute: str, values: Sequence[str]) -> str:
    return f"{attribute} IN [{', '.join(quote(value) for value in values)}]"


def phrase(words: Sequence[str]) -> str:
    # Words are letters and digits only (name_tokens), so nothing in them can end the phrase.
    return '"' + " ".join(words) + '"'


def date_int(day: date) -> int:
    """YYYYMMDD: filterable and sortable as a number, readable in the dashboard."""
    return day.year * 10_000 + day.month * 100 + day.day


def to_document(doc: IndexDoc) -> dict[str, Any]:
    """The Meilisearch document of an entry. Raises ValueError for a person whose card number
    is not masked: a full ID number must never reach a public index."""
    if doc.party_type == PartyType.PERSON and _FULL_ID_NUMBER.search(doc.card_display or ""):
        raise ValueError(f"entry {doc.id}: refusing to index an unmasked ID number")
    tokens = name_tokens(doc.name)
    return {
        "id": doc_key(doc.id),
        "entry_id": doc.id,
        "seq": doc.seq,
        "status": doc.status,
        "party_type": doc.party_type,
        "name": doc.name,
        "name_norm": doc.name_norm,
        "name_key": "".join(tokens),
        "name_chars": " ".join([NAME_START, *tokens]),
        "case_code": doc.case_code,
        "court_name": doc.court_name,
        "court_key": place_key(doc.court_name),
        "area_name": doc.area_name,
        "area_key": place_key(doc.area_name),
        "publish_date": date_int(doc.publish_date),
        "reg_date": doc.reg_date.isoformat() if doc.reg_date else None,
        "valid_until": doc.valid_until.isoformat() if doc.valid_until else None,
        "severity": doc.severity,
        "card_display": doc.card_display,
        "card_key": doc.card_key,
        # Matched by a full identifier's masked form: only entries without the full one.
        "card_masked_only": None if doc.card_key else doc.card_display,
        "representative_key": _representative_key(doc),
        # Only the disclosed case fields: whatever else an upstream bug left here stays out.
        "fields": {name: value for name, value in doc.fields.items() if name in CASE_FIELDS},
    }


def _representative_key(doc: IndexDoc) -> str | None:
    """An organization's legal representative as ``normalize.name_key`` (persons have none)."""
    representative = doc.fields.get("businessEntity")
    if doc.party_type != PartyType.ORG or not isinstance(representative, str):
        return None
    return name_key(representative) or None


def from_document(hit: dict[str, Any]) -> IndexDoc:
    published = hit["publish_date"]
    return IndexDoc(
        id=hit["entry_id"],
        seq=hit["seq"],
        status=hit["status"],
        party_type=hit["party_type"],
        name=hit["name"],
        name_norm=hit["name_norm"],
        case_code=hit["case_code"],
        court_name=hit["court_name"],
        area_name=hit["area_name"],
        publish_date=date(published // 10_000, published // 100 % 100, published % 100),
        reg_date=_iso_date(hit.get("reg_date")),
        valid_until=_iso_date(hit.get("valid_until")),
        severity=hit.get("severity"),
        card_display=hit.get("card_display"),
        card_key=hit.get("card_key"),
        fields=dict(hit.get("fields") or {}),
    )


def _iso_date(value: str | None) -> date | None:
    return date.fromisoformat(value) if value else None


def _chunks(items: Sequence[T], size: int) -> Iterator[Sequence[T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def tiers(query: SearchQuery, filters: list[str]) -> list[Tier]:
    """The queries whose results, one after another, are the answer (sqlite ``planner.plan_query``);
    none when the name has no letter or digit, so that no name can contain it."""
    tokens = query.name_tokens
    if tokens is None:
        return [Tier("", filters)]
    if not tokens:
        return []
    exact = f"name_key = {quote(''.join(tokens))}"
    if query.name_exact:
        return [Tier("", [*filters, exact])]
    contains, starts = phrase(tokens), phrase([NAME_START, *tokens])
    if query.sort is Sort.PUBLISH_DATE:
        return [Tier(contains, filters)]
    return [
        Tier("", [*filters, exact]),
        Tier(starts, [*filters, f"NOT {exact}"]),
        # The negation leads: "-" negates only when it follows whitespace or opens the query.
        Tier(f"-{starts} {contains}", filters),
    ]


def page_slices(counts: Sequence[int], offset: int, limit: int) -> list[tuple[int, int, int]]:
    """(tier, start, size) of each tier's share of results [offset, offset + limit)."""
    slices = []
    before = 0
    for tier, count in enumerate(counts):
        start, end = max(offset - before, 0), min(offset + limit - before, count)
        if start < end:
            slices.append((tier, start, end - start))
        before += count
    return slices


class MeiliIndex:
    """IndexBackend on a Meilisearch index. Synchronous, like the client; callers run it in a
    thread. The index and its settings are set up on first use."""

    name = "meili"
    fresh = False  # a lost Meilisearch index is found and refilled by reconciliation

    def __init__(
        self,
        url: str,
        api_key: str | None,
        index_name: str,
        timeout: float = 10.0,
        task_timeout: float = 600.0,
    ) -> None:
        self.index_name = index_name
        self._connect = (url, api_key, timeout, task_timeout)  # for the rebuild index
        # Settings changes re-index every document; on millions that takes minutes.
        self._task_timeout_ms = int(task_timeout * 1000)
        self._client = meilisearch.Client(url, api_key, timeout=timeout)
        self._index = self._client.index(index_name)
        self._ready = False
        self._ready_lock = threading.Lock()
        self._places: dict[str, tuple[float, list[str]]] = {}

    # -- setup ---------------------------------------------------------------------------------

    def ensure_settings(self) -> None:
        """Create the index if needed and apply SETTINGS (unchanged settings re-index nothing)."""
        task = self._wait_any(self._client.create_index(self.index_name, {"primaryKey": "id"}))
        if task.status != "succeeded" and (task.error or {}).get("code") != "index_already_exists":
            raise MeiliTaskFailed(task)
        self._wait(self._index.update_settings(SETTINGS))
        self._ready = True

    def _ensure_ready(self) -> None:
        if self._ready:
            return
        with self._ready_lock:
            if not self._ready:
                self.ensure_settings()

    def _wait_any(self, info: TaskInfo) -> Task:
        return self._client.wait_for_task(info.task_uid, timeout_in_ms=self._task_timeout_ms)

    def _wait(self, info: TaskInfo) -> Task:
        task = self._wait_any(info)
        if task.status != "succeeded":
            raise MeiliTaskFailed(task)
        return task

    # -- writes --------------------------------------------------------------------------------

    def upsert(self, docs: Sequence[IndexDoc]) -> None:
        documents = [to_document(doc) for doc in docs]  # refuse the batch before sending any
        if not documents:
            return
        self._ensure_ready()
        # Enqueue every batch first: Meilisearch can then index them together.
        infos = [
            self._index.add_documents(batch, primary_key="id")
            for batch in _chunks(documents, UPSERT_BATCH)
        ]
        for info in infos:
            self._wait(info)
        self._places.clear()  # a new court or area must be findable at once

    def delete(self, ids: Sequence[str]) -> None:
        keys = sorted({doc_key(entry_id) for entry_id in ids})
        if not keys:
            return
        self._ensure_ready()
        # By filter: the client deprecates deleting by a list of ids.
        infos = [
            self._index.delete_documents(filter=in_filter("id", chunk))
            for chunk in _chunks(keys, ID_BATCH)
        ]
        for info in infos:
            self._wait(info)

    def clear(self) -> None:
        self._ensure_ready()
        self._wait(self._index.delete_all_documents())
        self._places.clear()

    # -- rebuilds ------------------------------------------------------------------------------

    def begin_rebuild(self) -> MeiliIndex:
        """An empty ``<index>_rebuild`` with the settings (one left by a rebuild that died is
        deleted first). The live index is set up too: a swap needs both to exist."""
        self._ensure_ready()
        url, api_key, timeout, task_timeout = self._connect
        built = MeiliIndex(url, api_key, self.index_name + REBUILD_SUFFIX, timeout, task_timeout)
        built.drop()
        built.ensure_settings()
        return built

    def swap_in(self, built: MeiliIndex) -> None:
        """Swap the filled rebuild index with the live one (its name, settings and
        documents), then delete the rebuild name, which holds the old documents now."""
        swap = {"indexes": [self.index_name, built.index_name]}
        self._wait(self._client.swap_indexes([swap]))
        self._places.clear()
        built.drop()

    def abandon_rebuild(self, built: MeiliIndex) -> None:
        built.drop()

    def drop(self) -> None:
        """Delete this index altogether (no error when there is none)."""
        task = self._wait_any(self._client.delete_index(self.index_name))
        if task.status != "succeeded" and (task.error or {}).get("code") != "index_not_found":
            raise MeiliTaskFailed(task)
        self._ready = False
        self._places.clear()

    # -- reads ---------------------------------------------------------------------------------

    def present(self, ids: Sequence[str]) -> set[str]:
        wanted = {doc_key(entry_id): entry_id for entry_id in ids}
        if not wanted:
            return set()
        self._ensure_ready()
        found: set[str] = set()
        for chunk in _chunks(list(wanted), ID_BATCH):
            page = self._index.get_documents(
                {"filter": in_filter("id", chunk), "fields": ["id"], "limit": len(chunk)}
            )
            found.update(wanted[document.id] for document in page.results)
        return found

    def get(self, entry_id: str) -> IndexDoc | None:
        self._ensure_ready()
        try:
            document = self._index.get_document(doc_key(entry_id))
        except MeilisearchApiError as exc:
            if exc.code == "document_not_found":
                return None
            raise
        return from_document(dict(document))

    def represented_by(self, names: Sequence[str], limit: int) -> dict[str, list[dict[str, Any]]]:
        wanted = list(dict.fromkeys(name for name in names if name))
        if not wanted or limit <= 0:
            return {}
        self._ensure_ready()
        queries = [
            (Tier("", [f"representative_key = {quote(name)}"]), {"offset": 0, "limit": limit})
            for name in wanted
        ]
        found: dict[str, list[dict[str, Any]]] = {}
        for name, result in zip(wanted, self._multi(queries), strict=True):
            if result["hits"]:
                found[name] = [from_document(hit).to_api() for hit in result["hits"]]
        return found

    def iter_seqs(self) -> Iterator[tuple[str, int]]:
        """All (id, seq) sorted by id. Sorting by the original id needs every pair in memory:
        about 150 bytes each, so roughly 1.2 GB for 8 million entries. Offset paging may see a
        document twice while writes go on; the dict keeps one."""
        self._ensure_ready()
        seqs: dict[str, int] = {}
        offset = 0
        while True:
            page = self._index.get_documents(
                {"fields": ["entry_id", "seq"], "offset": offset, "limit": SCAN_PAGE}
            )
            for document in page.results:
                seqs[document.entry_id] = document.seq
            offset += len(page.results)
            if len(page.results) < SCAN_PAGE:
                break
        yield from sorted(seqs.items())

    def count(self) -> int:
        self._ensure_ready()
        return self._index.get_stats().number_of_documents

    def search(self, query: SearchQuery) -> SearchPage:
        self._ensure_ready()
        filters = self._filters(query)
        plan = [] if filters is None else tiers(query, filters)
        if not plan:
            total, hits = 0, []
        elif len(plan) == 1:
            # Page mode: totalHits is exact, not an estimate.
            paging = {"page": query.page, "hitsPerPage": query.per_page}
            result = self._index.search(plan[0].q, self._params(plan[0], paging))
            total, hits = result["totalHits"], result["hits"]
        else:
            total, hits = self._search_tiers(plan, query.offset, query.per_page)
        items = [from_document(hit) for hit in hits]
        return SearchPage(total=total, items=items, page=query.page, per_page=query.per_page)

    def _search_tiers(self, plan: list[Tier], offset: int, limit: int) -> tuple[int, list[Any]]:
        """Exact counts and first pages of every tier in one request; a second one only for a
        page that starts inside a tier."""
        first = self._multi([(tier, {"page": 1, "hitsPerPage": limit}) for tier in plan])
        slices = page_slices([result["totalHits"] for result in first], offset, limit)
        missing = [s for s in slices if s[1] + s[2] > len(first[s[0]]["hits"])]
        refetched = self._multi(
            [(plan[tier], {"offset": start, "limit": size}) for tier, start, size in missing]
        )
        fetched = dict(zip(missing, refetched, strict=True))
        hits: list[Any] = []
        for tier, start, size in slices:
            part = fetched.get((tier, start, size))
            hits += part["hits"] if part else first[tier]["hits"][start : start + size]
        return sum(result["totalHits"] for result in first), hits

    def _multi(self, queries: list[tuple[Tier, dict[str, int]]]) -> list[dict[str, Any]]:
        if not queries:
            return []
        body = [
            {"indexUid": self.index_name, "q": tier.q, **self._params(tier, paging)}
            for tier, paging in queries
        ]
        return self._client.multi_search(body)["results"]

    @staticmethod
    def _params(tier: Tier, paging: dict[str, int]) -> dict[str, Any]:
        params: dict[str, Any] = {
            **paging,
            "sort": DATE_ORDER,
            "attributesToRetrieve": RETRIEVED,
            "matchingStrategy": "all",
        }
        if tier.filters:
            params["filter"] = tier.filters
        if tier.q:
            params["locales"] = ["cmn"]
        return params

    def _filters(self, query: SearchQuery) -> list[str] | None:
        """The AND-ed filter expressions, or None when a place matches no indexed value."""
        filters: list[str] = []
        if query.party_type:
            filters.append(f"party_type = {quote(PartyType(query.party_type).value)}")
        if query.case_code:
            filters.append(f"case_code = {quote(query.case_code)}")
        if query.representative is not None:
            if not query.representative:
                return None  # no letter or digit: no representative's name is that
            filters.append(f"representative_key = {quote(query.representative)}")
        cards = [
            f"{attribute} = {quote(value)}"
            for attribute, value in (
                ("card_key", query.card_key),
                ("card_display", query.card_display),
                ("card_masked_only", query.card_masked),
            )
            if value
        ]
        if cards:
            filters.append("(" + " OR ".join(cards) + ")")
        if query.published_from:
            filters.append(f"publish_date >= {date_int(query.published_from)}")
        if query.published_to:
            filters.append(f"publish_date <= {date_int(query.published_to)}")
        for attribute, needle in (("court_key", query.court), ("area_key", query.region)):
            if needle is not None:  # normalized already, like place_key
                place_filter = self._place_filter(attribute, needle)
                if place_filter is None:
                    return None
                filters.append(place_filter)
        return filters

    def _place_filter(self, attribute: str, needle: str) -> str | None:
        if not needle:
            return None  # only punctuation: no place contains it
        # Meilisearch may hand facet values back lowercased; compare case-blind both ways.
        needle = needle.casefold()
        values = self._place_values(attribute)
        matches = [value for value in values if needle in value.casefold()]
        if not matches:
            return None
        if len(matches) == len(values):
            return f"{attribute} EXISTS"  # every place matches: spare a huge IN list
        return in_filter(attribute, matches)

    def _place_values(self, attribute: str) -> list[str]:
        """Distinct values of a place attribute. Cached for PLACES_TTL_SECONDS: a court first
        indexed by another process is found by court filters at most that much later."""
        now = time.monotonic()
        cached = self._places.get(attribute)
        if cached and cached[0] > now:
            return cached[1]
        result = self._index.search("", {"limit": 0, "facets": [attribute]})
        values = list(result.get("facetDistribution", {}).get(attribute, {}))
        if len(values) >= MAX_FACET_VALUES:
            log.warning(
                "%s has %d+ distinct values; raise MAX_FACET_VALUES", attribute, len(values)
            )
        self._places[attribute] = (now + PLACES_TTL_SECONDS, values)
        return values

    # -- service -------------------------------------------------------------------------------

    def healthy(self) -> bool:
        return self._client.is_healthy()

    def close(self) -> None:
        # Every client call opens and closes its own HTTP session; only the cache is ours.
        self._places.clear()
