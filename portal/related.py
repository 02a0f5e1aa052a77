"""Related parties as the pages and the API show them: the listed organizations whose legal
representative has the same name as a listed person (``search_index.related``), with their
links. Only ever beside the person's own entries, and labelled as a name match only."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any
from urllib.parse import quote, urlencode

import orjson

from search_index.normalize import name_key
from search_index.related import BASIS, Related
from search_index.service import ListService

# The full search behind "more": every organization this name represents, newest first.
_MORE = {"partyType": "org", "sort": "publish_date"}


def lookup(service: ListService, items: Iterable[dict[str, Any]]) -> list[Related]:
    """The related organizations of the persons among ``items`` (API JSON of entries)."""
    names = [item["iname"] for item in items if item["partyType"] == "person"]
    return service.related_organizations(names) if names else []


def for_page(related: Related) -> dict[str, Any]:
    """What templates/_related.html shows of one name."""
    return {
        "name": related.name,
        "organizations": [_organization(item) for item in related.organizations],
        "more": related.more,
        "more_url": "/?" + urlencode({"representative": related.name, **_MORE}),
    }


def for_api(related: Related) -> dict[str, Any]:
    """``RelatedOrganizations`` of the OpenAPI document."""
    return {
        "basis": BASIS,
        "name": related.name,
        "items": [_organization(item) for item in related.organizations],
        "more": related.more,
        "moreUrl": "/api/v1/entries?" + urlencode({"representative": related.name, **_MORE}),
    }


def with_related(
    items: Sequence[bytes], shown: Sequence[dict[str, Any]], related: list[Related]
) -> list[bytes]:
    """The items' JSON with ``relatedOrganizations`` added to each person that has any: the
    stored bytes are extended, not rebuilt (``portal.responses.search_page_json``)."""
    by_key = {r.key: orjson.dumps(for_api(r)) for r in related}
    out = []
    for raw, item in zip(items, shown, strict=True):
        found = by_key.get(name_key(item["iname"])) if item["partyType"] == "person" else None
        out.append(raw[:-1] + b',"relatedOrganizations":' + found + b"}" if found else raw)
    return out


def _organization(item: dict[str, Any]) -> dict[str, Any]:
    address = quote(item["id"], safe="/")  # as the results link it (portal.pages)
    return {
        "id": item["id"],
        "iname": item["iname"],
        "caseCode": item["caseCode"],
        "courtName": item["courtName"],
        "publishDate": item["publishDate"],
        "businessEntity": item["businessEntity"],
        "url": f"/api/v1/entries/{address}",
        "pageUrl": f"/entries/{address}",
    }
