"""The routing file: report categories, complaint types, units, and their deadlines.

Loaded once at start and validated as a whole; any mistake raises RoutingError naming the
file and the entry (``reports[12] (consumption.hotel).units: unknown unit 'tourisn'``).
The packaged default is ``casework/data/routing.yaml``; its header documents the format.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from casework.deadlines import Period

DEFAULT_FILE = Path(__file__).parent / "data" / "routing.yaml"
ENTRY_COURT = "entry_court"  # the court that listed the debtor (the entry's courtName)
MEASURE_UNIT = "measure_unit"  # the unit applying the measure the complaint names
COURT_PREFIX = "court:"  # units made up for courts the file does not list
ENTRY_STATUSES = frozenset({"published", "corrected", "shielded", "deleted", "revoked", "expired"})
_CODE = re.compile(r"^[a-z0-9][a-z0-9._-]{0,63}$")


class RoutingError(ValueError):
    """The routing file is unreadable or wrong; the message names the entry."""


@dataclass(frozen=True, slots=True)
class Unit:
    code: str
    name: str
    kind: str = "unit"  # unit | court
    supervisor: str | None = None


@dataclass(frozen=True, slots=True)
class Deadlines:
    accept: Period
    reply: Period
    correct: Period | None = None  # after a complaint is upheld (correction, removal)


@dataclass(frozen=True, slots=True)
class Category:
    """A report category (kind "report") or a complaint type (kind "complaint")."""

    code: str
    kind: str
    name: str
    route: str  # "units", ENTRY_COURT or MEASURE_UNIT
    deadlines: Deadlines
    area: str | None = None
    units: tuple[str, ...] = ()
    lead: str | None = None
    basis: str = ""
    note: str = ""
    requires_entry_status: frozenset[str] = frozenset()

    @property
    def receiving_unit(self) -> str | None:
        return self.lead or (self.units[0] if self.units else None)


@dataclass(frozen=True)
class Routing:
    version: str
    jurisdiction: str
    supervisor: str
    fallback_unit: str
    units: Mapping[str, Unit]
    areas: Mapping[str, str]
    categories: Mapping[str, Category]
    origin: Path = field(default=DEFAULT_FILE)

    def category(self, code: str) -> Category | None:
        return self.categories.get(code)

    def reports(self) -> list[Category]:
        return [c for c in self.categories.values() if c.kind == "report"]

    def complaints(self) -> list[Category]:
        return [c for c in self.categories.values() if c.kind == "complaint"]

    def unit(self, code: str) -> Unit | None:
        """A unit of the file, or a court named by ``court:<name>``."""
        if code in self.units:
            return self.units[code]
        if code.startswith(COURT_PREFIX) and len(code) > len(COURT_PREFIX):
            return Unit(code, code.removeprefix(COURT_PREFIX), "court", None)
        return None

    def court_unit(self, court_name: str) -> str:
        """The unit code of a court by its exact name (listed or made up)."""
        for unit in self.units.values():
            if unit.kind == "court" and unit.name == court_name:
                return unit.code
        return COURT_PREFIX + court_name

    def supervisor_of(self, code: str) -> str | None:
        """Who overdue tickets of ``code`` escalate to; None for the top supervisor."""
        unit = self.unit(code)
        chosen = unit.supervisor if unit and unit.supervisor else self.supervisor
        return None if chosen == code else chosen


def load_routing(path: Path | None = None) -> Routing:
    """Read and validate a routing file (the packaged default when ``path`` is None)."""
    origin = Path(path) if path is not None else DEFAULT_FILE
    try:
        data = yaml.safe_load(origin.read_text(encoding="utf-8"))
    except OSError as exc:
        raise RoutingError(f"{origin}: cannot read the routing file: {exc}") from exc
    except yaml.YAMLError as exc:
        raise RoutingError(f"{origin}: not valid YAML: {exc}") from exc
    try:
        return _Parser(origin).routing(data)
    except RoutingError as exc:
        raise RoutingError(f"{origin}: {exc}") from None


class _Parser:
    def __init__(self, origin: Path) -> None:
        self.origin = origin

    def routing(self, data: object) -> Routing:
        top = _mapping(
            data,
            "the file",
            {
                "version",
                "jurisdiction",
                "source",
                "defaults",
                "units",
                "areas",
                "reports",
                "complaints",
            },
        )
        version = top.get("version")
        if not isinstance(version, str | int | float) or not str(version).strip():
            raise RoutingError("version: required (a string such as '2026.1')")
        if len(str(version)) > 32:
            raise RoutingError("version: at most 32 characters")
        defaults = _mapping(
            top.get("defaults"), "defaults", {"supervisor", "fallback_unit", "deadlines"}
        )
        units = dict(self._units(top.get("units")))
        areas = dict(self._areas(top.get("areas")))
        default_deadlines = _mapping(
            defaults.get("deadlines"), "defaults.deadlines", {"accept", "reply", "correct"}
        )
        categories: dict[str, Category] = {}
        for where, cat in self._categories(top, units, areas, default_deadlines):
            if cat.code in categories:
                raise RoutingError(f"{where}: code {cat.code!r} is used twice")
            categories[cat.code] = cat
        for key in ("supervisor", "fallback_unit"):
            if defaults.get(key) not in units:
                raise RoutingError(f"defaults.{key}: {defaults.get(key)!r} is not a unit code")
        for unit in units.values():
            if unit.supervisor is not None and unit.supervisor not in units:
                raise RoutingError(
                    f"units ({unit.code}).supervisor: {unit.supervisor!r} is not a unit code"
                )
        kinds = {c.kind for c in categories.values()}
        if kinds != {"report", "complaint"}:
            raise RoutingError("needs at least one entry in reports and in complaints")
        return Routing(
            version=str(version),
            jurisdiction=str(top.get("jurisdiction") or ""),
            supervisor=defaults["supervisor"],
            fallback_unit=defaults["fallback_unit"],
            units=units,
            areas=areas,
            categories=categories,
            origin=self.origin,
        )

    def _units(self, raw: object) -> Iterator[tuple[str, Unit]]:
        seen: set[str] = set()
        for i, item in enumerate(_list(raw, "units")):
            where = f"units[{i}]"
            entry = _mapping(item, where, {"code", "name", "kind", "supervisor", "basis"})
            code = _code(entry.get("code"), where)
            where = f"units[{i}] ({code})"
            if code in seen:
                raise RoutingError(f"{where}: code {code!r} is used twice")
            seen.add(code)
            kind = entry.get("kind", "unit")
            if kind not in ("unit", "court"):
                raise RoutingError(f"{where}.kind: must be 'unit' or 'court', got {kind!r}")
            supervisor = entry.get("supervisor")
            yield code, Unit(code, _text(entry.get("name"), f"{where}.name"), kind, supervisor)

    def _areas(self, raw: object) -> Iterator[tuple[str, str]]:
        for i, item in enumerate(_list(raw, "areas")):
            entry = _mapping(item, f"areas[{i}]", {"code", "name"})
            yield (
                _code(entry.get("code"), f"areas[{i}]"),
                _text(entry.get("name"), f"areas[{i}].name"),
            )

    def _categories(
        self,
        top: Mapping[str, Any],
        units: Mapping[str, Unit],
        areas: Mapping[str, str],
        default_deadlines: Mapping[str, Any],
    ) -> Iterator[tuple[str, Category]]:
        allowed = {
            "code",
            "name",
            "area",
            "units",
            "lead",
            "route",
            "basis",
            "note",
            "deadlines",
            "requires_entry_status",
        }
        for section, kind in (("reports", "report"), ("complaints", "complaint")):
            for i, item in enumerate(_list(top.get(section), section)):
                where = f"{section}[{i}]"
                entry = _mapping(item, where, allowed)
                code = _code(entry.get("code"), where)
                where = f"{section}[{i}] ({code})"
                yield (
                    where,
                    self._category(kind, code, entry, where, units, areas, default_deadlines),
                )

    def _category(
        self,
        kind: str,
        code: str,
        entry: Mapping[str, Any],
        where: str,
        units: Mapping[str, Unit],
        areas: Mapping[str, str],
        default_deadlines: Mapping[str, Any],
    ) -> Category:
        area = entry.get("area")
        if kind == "report" and area not in areas:
            raise RoutingError(f"{where}.area: {area!r} is not one of the areas")
        listed = tuple(entry.get("units") or ())
        route = entry.get("route", "units" if listed else None)
        routes = ("units", ENTRY_COURT) if kind == "report" else (ENTRY_COURT, MEASURE_UNIT)
        if route not in routes:
            raise RoutingError(
                f"{where}: give units, or route: one of {list(routes)[1:]}"
                if kind == "report"
                else f"{where}.route: one of {list(routes)}"
            )
        if route == "units" and not listed:
            raise RoutingError(f"{where}.units: name at least one unit")
        if route != "units" and listed:
            raise RoutingError(f"{where}: give either units or route: {route}, not both")
        for code_ in listed:
            if code_ not in units:
                raise RoutingError(f"{where}.units: unknown unit {code_!r}")
        lead = entry.get("lead")
        if lead is not None and lead not in listed:
            raise RoutingError(f"{where}.lead: {lead!r} is not one of its units")
        statuses = frozenset(entry.get("requires_entry_status") or ())
        if statuses - ENTRY_STATUSES:
            raise RoutingError(
                f"{where}.requires_entry_status: unknown "
                f"{sorted(statuses - ENTRY_STATUSES)}; allowed: "
                f"{sorted(ENTRY_STATUSES)}"
            )
        return Category(
            code=code,
            kind=kind,
            name=_text(entry.get("name"), f"{where}.name"),
            route=route,
            deadlines=_deadlines(entry.get("deadlines"), default_deadlines, where),
            area=area if kind == "report" else None,
            units=listed,
            lead=lead,
            basis=str(entry.get("basis") or ""),
            note=str(entry.get("note") or ""),
            requires_entry_status=statuses,
        )


def _deadlines(raw: object, defaults: Mapping[str, Any], where: str) -> Deadlines:
    own = _mapping(raw, f"{where}.deadlines", {"accept", "reply", "correct"}) if raw else {}
    merged = {**defaults, **own}
    periods: dict[str, Period | None] = {}
    for key in ("accept", "reply", "correct"):
        value = merged.get(key)
        if value is None:
            if key != "correct":
                raise RoutingError(f"{where}.deadlines.{key}: required (here or in defaults)")
            periods[key] = None
            continue
        try:
            periods[key] = Period.parse(value)
        except ValueError as exc:
            raise RoutingError(f"{where}.deadlines.{key}: {exc}") from None
    accept, reply = periods["accept"], periods["reply"]
    assert accept is not None and reply is not None
    return Deadlines(accept, reply, periods["correct"])


def _mapping(raw: object, where: str, allowed: set[str]) -> dict[str, Any]:
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise RoutingError(f"{where}: expected a mapping, got {type(raw).__name__}")
    unknown = sorted(str(k) for k in raw if k not in allowed)
    if unknown:
        raise RoutingError(f"{where}: unknown key(s) {unknown}; allowed: {sorted(allowed)}")
    return raw


def _list(raw: object, where: str) -> list[Any]:
    if not isinstance(raw, list) or not raw:
        raise RoutingError(f"{where}: expected a non-empty list")
    return raw


def _code(raw: object, where: str) -> str:
    if not isinstance(raw, str) or not _CODE.match(raw):
        raise RoutingError(
            f"{where}.code: {raw!r} is not a code (lower-case letters, digits, '.', '-', '_')"
        )
    return raw


def _text(raw: object, where: str) -> str:
    if not isinstance(raw, str) or not raw.strip():
        raise RoutingError(f"{where}: required text")
    return raw.strip()
