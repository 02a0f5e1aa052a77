"""The routing file: report categories, complaint types, units, and their deadlines.

Loaded at start and validated as a whole; any mistake raises RoutingError naming the
file and the entry (``reports[12] (consumption.hotel).units: unknown unit 'tourisn'``);
``chinese_error`` words it for the back office, with the line of the file.
The packaged default is ``casework/data/routing.yaml``; its header documents the format.
A file an administrator installs is kept in the database (casework/routing_store.py) and
loaded from its text, with ``Routing.installed`` saying which row it is.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
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
    """The routing file is unreadable or wrong; the message names the entry.

    ``where`` is the entry (``reports[0] (code).units``) and ``detail`` what is wrong with
    it, and ``line`` its line in the file when known (set by load_routing_text)."""

    def __init__(self, message: str, *, line: int | None = None) -> None:
        super().__init__(message)
        where, sep, detail = message.partition(": ")
        self.where = where if sep else None
        self.detail = detail if sep else message
        self.line = line


@dataclass(frozen=True, slots=True)
class Installed:
    """The routing_files row a routing was loaded from."""

    id: int
    sha256: str
    installed_by: str
    installed_at: datetime


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
    installed: Installed | None = None  # installed by an administrator (else a file)

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
        text = origin.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise RoutingError(f"{origin}: cannot read the routing file: {exc}") from exc
    return load_routing_text(text, origin)


def load_routing_text(text: str, origin: Path, installed: Installed | None = None) -> Routing:
    """Validate the text of a routing file; errors start with ``origin`` and carry the line."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        error = RoutingError(f"{origin}: not valid YAML: {exc}", line=line)
        problem = getattr(exc, "problem", None) or str(exc)
        error.where, error.detail = None, f"not valid YAML: {problem}"
        raise error from exc
    try:
        routing = _Parser(origin).routing(data)
    except RoutingError as exc:
        error = RoutingError(f"{origin}: {exc}", line=_line_of(text, exc.where))
        error.where, error.detail = exc.where, exc.detail
        raise error from None
    return routing if installed is None else replace(routing, installed=installed)


_STEP = re.compile(r"\.?([A-Za-z_]+)(?:\[(\d+)\])?(?: \(([^)]*)\))?")


def _line_of(text: str, where: str | None) -> int | None:
    """The line of the entry ``where`` names (``reports[3] (code).units``), or of the
    nearest enclosing one that exists."""
    if not where:
        return None
    try:
        node: Any = yaml.compose(text)
    except yaml.YAMLError:
        return None
    line = None
    for match in _STEP.finditer(where):
        key, index, code = match.groups()
        node = _child(node, key)
        if node is None:
            break
        line = node.start_mark.line + 1
        if index is not None or code is not None:
            node = _item(node, int(index) if index is not None else None, code)
            if node is None:
                break
            line = node.start_mark.line + 1
    return line


def _child(node: Any, key: str) -> Any:
    if isinstance(node, yaml.MappingNode):
        for k, v in node.value:
            if getattr(k, "value", None) == key:
                return v
    return None


def _item(node: Any, index: int | None, code: str | None) -> Any:
    if not isinstance(node, yaml.SequenceNode):
        return None
    if index is not None:
        return node.value[index] if index < len(node.value) else None
    for item in node.value:
        found = _child(item, "code")
        if found is not None and found.value == code:
            return item
    return None


# English details of the parser, worded in Chinese for the back office.
_CHINESE: list[tuple[re.Pattern[str], str]] = [
    (re.compile(p, re.S), c)
    for p, c in [
        (r"^required \(a string such as '2026\.1'\)$", "必填（如 '2026.1'）"),
        (r"^at most (\d+) characters$", r"最多 \1 个字符"),
        (r"^not valid YAML: (.*)$", r"不是有效的 YAML：\1"),
        (r"^unknown unit (.+)$", r"未知的单位 \1"),
        (r"^(.+) is not a unit code$", r"\1 不是单位代码"),
        (r"^code (.+) is used twice$", r"代码 \1 重复使用"),
        (r"^unknown key\(s\) (\[.*?\]); allowed: (.*)$", r"未知的字段 \1；可用字段：\2"),
        (r"^expected a non-empty list$", "应为非空列表"),
        (r"^expected a mapping, got (\w+)$", r"应为“字段: 值”的映射，实际是 \1"),
        (r"^(.+) is not one of the areas$", r"\1 不是 areas 中的领域"),
        (r"^(.+) is not one of its units$", r"\1 不在本类别的 units 中"),
        (r"^required text$", "必填文字"),
        (r"^(.+) is not a code \(.*\)$", r"\1 不是有效代码（小写字母、数字、'.'、'-'、'_'）"),
        (r"^name at least one unit$", "至少列出一个单位"),
        (r"^give either units or route: (\S+), not both$", r"units 与 route: \1 只能二选一"),
        (r"^give units, or route: one of (.*)$", r"请列出 units，或将 route 设为 \1 之一"),
        (r"^one of (.*)$", r"只能是 \1 之一"),
        (r"^must be 'unit' or 'court', got (.*)$", r"只能是 'unit' 或 'court'，实际是 \1"),
        (r"^required \(here or in defaults\)$", "必填（在此处或 defaults 中）"),
        (
            r"^needs at least one entry in reports and in complaints$",
            "reports 和 complaints 各需至少一项",
        ),
        (r"^unknown (\[.*?\]); allowed: (.*)$", r"未知的状态 \1；可用状态：\2"),
        (r"^(.+) is not a period: .*$", r"\1 不是有效期限，应写作 '3 working days' 或 '15 days'"),
    ]
]


def chinese_error(error: RoutingError) -> str:
    """The error for the back office: line, entry and what is wrong, in Chinese."""
    detail = error.detail
    for pattern, chinese in _CHINESE:
        if pattern.match(detail):
            detail = pattern.sub(chinese, detail)
            break
    parts = []
    if error.line is not None:
        parts.append(f"第 {error.line} 行")
    if error.where:
        parts.append("文件顶层" if error.where == "the file" else f"字段 {error.where}")
    return "，".join(parts) + "：" + detail if parts else detail


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
