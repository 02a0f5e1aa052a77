"""Turning one ingest line (a JSON object or a CSV row) into a validated, normalized event.

Each rejection carries a short code and a sentence a court clerk understands. The
normalized payload never holds a full ID number: it keeps the masked form for display and
a keyed hash for matching, so the journal is as safe to keep as the index.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import orjson

from search_index.dates import DateParseError, latest_period_end, parse_date, parse_instant
from search_index.identifiers import (
    MASKED_KINDS,
    PERSON_KINDS,
    IdentifierError,
    IdentifierKind,
    classify_identifier,
    display_form,
    for_party,
    keyed_hash,
)
from search_index.normalize import CaseCodeError, normalize_case_code, normalize_name
from search_index.redact import mask_entry_id, redact_record
from search_index.types import CASE_FIELDS, PartyType

PUBLISH, CORRECT, SHIELD, DELETE, REVOKE, EXPIRE = (
    "publish",
    "correct",
    "shield",
    "delete",
    "revoke",
    "expire",
)
REMOVAL_OPS = frozenset({SHIELD, DELETE, REVOKE})
INGEST_OPS = frozenset({PUBLISH, CORRECT, *REMOVAL_OPS})

ENTRY_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:\-]{0,63}$")
MAX_TEXT = 2000
MAX_NAME = 200
# The store's columns (core/tables.py): longer values would fail the whole batch on PostgreSQL.
MAX_CASE_CODE = 80
MAX_SEVERITY = 32

PERSON_TYPE_NAMES = {"自然人", "个人", "person", "0"}
ORG_TYPE_NAMES = {"法人或其他组织", "法人", "其他组织", "非自然人", "企业", "单位", "org", "1"}
# The national platform writes 男性/女性 as often as 男/女; we store and show the short form.
SEXES = {"男": "男", "女": "女", "男性": "男", "女性": "女"}
# What real records put in a field they have nothing for; read exactly as an empty field.
PLACEHOLDERS = frozenset({"", "暂无", "无", "null"})
_PLACEHOLDER_LEN = max(map(len, PLACEHOLDERS))  # longer values skip the lower() (hot path)
ORG_AGE = "0"  # organizations carry age "0" on the national platform: not an age
MIN_AGE = 18  # Rules Art. 4: minors are never listed
MAX_AGE = 130

# cardNum problems that concern the identifier alone: the card is dropped with a warning
# when the party type can still be decided without it (otherwise the line is rejected).
IDENTIFIER_CODES = frozenset(
    {
        "unrecognized_identifier",
        "bad_id_checksum",
        "bad_id_birthdate",
        "bad_id_region",
        "bad_credit_code_checksum",
        "bad_credit_code_charset",
        "bad_org_code_checksum",
    }
)
# Free text describing the case: one that is too long is cut (and marked so), not dropped.
# Other text fields name something (a document, a unit, a person): cut short they would name
# something else, so they are dropped instead.
TRUNCATED_FIELDS = frozenset({"duty", "performedPart", "unperformPart", "disruptTypeName"})
ELLIPSIS = "…"
WARNING_VALUE_LIMIT = 200  # how much of a dropped value a warning echoes

# Anything shaped like a full resident ID number (valid or not, in any width of digits), as
# echoed in rejects and warnings: 18 characters keep the region, the birth year and the last
# four, like the national platform's mask; 17 digits (the check character is computable) the
# last three; 15-digit old numbers the region and the serial.
FULL_ID_SHAPE = re.compile(r"(?<!\d)(\d{10})\d{4}(\d{3}[\dXxＸｘ])(?!\d)")
ID17_SHAPE = re.compile(r"(?<!\d)(\d{10})\d{4}(\d{3})(?!\d)")
OLD_ID_SHAPE = re.compile(r"(?<!\d)(\d{6})\d{6}(\d{3})(?!\d)")


def mask_full_ids(text: str) -> str:
    """``text`` with every ID-number-shaped run masked: for echoes that get passed around
    (rejects and warnings files, API responses that get logged)."""
    text = FULL_ID_SHAPE.sub(r"\1****\2", text)
    return OLD_ID_SHAPE.sub(r"\1******\2", ID17_SHAPE.sub(r"\1****\2", text))


class Rejection(Exception):
    """A line we cannot accept, with a code and a message for the clerk who sent it."""

    def __init__(
        self, code: str, message: str, field: str | None = None, *, line_text: str = ""
    ) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.field = field
        self.line_text = line_text  # the input line, when it could not even be decoded

    def as_dict(self) -> dict[str, Any]:
        return {"code": self.code, "field": self.field, "message": self.message}


@dataclass(slots=True, frozen=True)
class FieldWarning:
    """An optional field we could not use: the line was accepted without it (or with it cut
    short), and the clerk is told what we did. ``value`` is the value as received, masked and
    cut to WARNING_VALUE_LIMIT characters."""

    field: str
    value: str
    code: str
    message: str

    @classmethod
    def of(cls, field: str, value: Any, code: str, message: str) -> FieldWarning:
        text = value if isinstance(value, str) else _json_text(value)
        # Mask before cutting: a cut could leave most of an ID number that no longer matches.
        text = mask_full_ids(text)
        if len(text) > WARNING_VALUE_LIMIT:
            text = text[:WARNING_VALUE_LIMIT] + ELLIPSIS
        return cls(field, text, code, mask_full_ids(message))


def _json_text(value: Any) -> str:
    try:
        return orjson.dumps(value).decode()
    except TypeError:  # not from JSON (a caller's own object): its text will do
        return str(value)


@dataclass(slots=True)
class Event:
    op: str
    entry_id: str
    effective_at: datetime
    payload: dict[str, Any]
    key: str = ""

    def __post_init__(self) -> None:
        if not self.key:
            self.key = event_key(self.op, self.entry_id, self.effective_at, self.payload)


def event_key(op: str, entry_id: str, effective_at: datetime, payload: dict[str, Any]) -> str:
    """Identity of an event for idempotent re-import: the same fact twice is one event."""
    body = orjson.dumps(
        [op, entry_id, effective_at.isoformat(), payload], option=orjson.OPT_SORT_KEYS
    )
    return hashlib.sha256(body).hexdigest()


class EventParser:
    """Validates raw ingest records. ``received_at`` is the default effective time of a
    correction that does not say when it took effect."""

    def __init__(self, id_hash_key: str) -> None:
        self._key = id_hash_key
        self._warnings: list[FieldWarning] = []  # the current line's, see parse_line

    def parse_line(self, raw: Any, received_at: datetime) -> tuple[Event, list[FieldWarning]]:
        """``parse``, and the warnings of the optional fields it dropped or cut: a line whose
        optional field is junk is accepted without that field. A rejected line has none."""
        self._warnings = []
        event = self.parse(raw, received_at)
        return event, self._warnings

    def parse(self, raw: Any, received_at: datetime) -> Event:
        if not isinstance(raw, dict):
            raise Rejection("not_an_object", "每行应为一个 JSON 对象")
        redact_record(raw)  # before anything reads it: no full ID number outside cardNum
        op = _text(raw, "op", required=True)
        entry_id = _entry_id(raw)
        if op == PUBLISH:
            return self._publish(raw, entry_id)
        if op == CORRECT:
            return self._correct(raw, entry_id, received_at)
        if op in REMOVAL_OPS:
            return self._removal(op, raw, entry_id)
        raise Rejection(
            "unknown_op",
            f"未知的操作 op={op!r}：应为 publish、correct、shield、delete 或 revoke",
            "op",
        )

    def _publish(self, raw: dict[str, Any], entry_id: str) -> Event:
        payload = self.entry_fields(raw, partial=False)
        effective = (
            _instant(raw, "effectiveAt")
            if raw.get("effectiveAt")
            else parse_instant(payload["publish_date"])
        )
        return Event(PUBLISH, entry_id, effective, payload)

    def _correct(self, raw: dict[str, Any], entry_id: str, received_at: datetime) -> Event:
        changed = raw.get("fields")
        if changed is None:
            changed = {k: v for k, v in raw.items() if k not in ("op", "id", "effectiveAt")}
        if not isinstance(changed, dict) or not changed:
            raise Rejection("nothing_to_correct", "更正（correct）未给出任何要更正的字段", "fields")
        payload = self.entry_fields(changed, partial=True)
        if not payload and self._warnings:  # everything it gave was dropped: nothing changes
            dropped = "、".join(w.field for w in self._warnings)
            raise Rejection(
                "nothing_to_correct",
                f"更正（correct）给出的字段（{dropped}）都无法使用，没有可更正的内容",
                "fields",
            )
        effective = _instant(raw, "effectiveAt") if raw.get("effectiveAt") else received_at
        return Event(CORRECT, entry_id, effective, payload)

    def _removal(self, op: str, raw: dict[str, Any], entry_id: str) -> Event:
        if not raw.get("effectiveAt"):
            raise Rejection("missing_field", f"{op} 必须给出生效时间 effectiveAt", "effectiveAt")
        effective = _instant(raw, "effectiveAt")
        reason = _text(raw, "reason", required=True, limit=MAX_TEXT)
        return Event(op, entry_id, effective, {"reason": reason})

    def entry_fields(self, raw: dict[str, Any], *, partial: bool) -> dict[str, Any]:
        """Normalize the disclosed fields. ``partial`` (a correction) checks only what is given."""
        out: dict[str, Any] = {}
        required = not partial

        def given(name: str) -> bool:
            return required or name in raw

        if given("iname"):
            name = _text(raw, "iname", required=True, limit=MAX_NAME)
            out["name"], out["name_norm"] = name, normalize_name(name)
        if given("caseCode"):
            try:
                out["case_code"] = normalize_case_code(_text(raw, "caseCode", required=True))
            except CaseCodeError as exc:
                raise Rejection("bad_case_code", str(exc), "caseCode") from exc
            if len(out["case_code"]) > MAX_CASE_CODE:
                message = f"案号过长（最多 {MAX_CASE_CODE} 字），请核对是否粘贴了其他内容"
                raise Rejection("too_long", message, "caseCode")
        if given("courtName"):
            out["court_name"] = _text(raw, "courtName", required=True, limit=MAX_NAME)
        if given("publishDate"):
            out["publish_date"] = _date(raw, "publishDate", required=True)
        # Optional fields: junk in one is dropped with a warning, the line is kept.
        for src, dst, limit in (
            ("areaName", "area_name", MAX_NAME),
            ("severity", "severity", MAX_SEVERITY),
        ):
            if src in raw:
                self._optional(out, dst, raw, src, lambda r, n, cap=limit: _text(r, n, limit=cap))
        for src, dst in (("regDate", "reg_date"), ("validUntil", "valid_until")):
            if src in raw:
                self._optional(out, dst, raw, src, _date)
        if "disclose" in raw:
            out["disclose"] = _bool(raw, "disclose")
        elif required:
            out["disclose"] = True
        # Junk sex or age is no evidence of a person: dropped before the party type is decided.
        raw = self._usable_person_fields(raw)
        # The party type comes first: an organization's age is not checked against the minors rule.
        raw = self._decide_party(raw, out, decide_type=required)
        fields = _case_fields(raw, out.get("party_type"), self._warnings)
        if fields or required:
            out["fields"] = fields
        _check_consistency(out)
        out.pop("birth_date", None)  # only needed for the minor check; not disclosed
        return out

    def _warn(self, field: str, value: Any, code: str, message: str) -> None:
        self._warnings.append(FieldWarning.of(field, value, code, message))

    def _optional(
        self,
        out: dict[str, Any],
        dst: str,
        raw: dict[str, Any],
        src: str,
        read: Callable[[dict[str, Any], str], Any],
    ) -> None:
        """``out[dst] = read(raw, src)``, or a warning and no ``dst`` when the value is junk."""
        try:
            out[dst] = read(raw, src)
        except Rejection as exc:
            self._warn(src, raw[src], exc.code, _dropped_message(exc.message, src))

    def _usable_person_fields(self, raw: dict[str, Any]) -> dict[str, Any]:
        """``raw`` without a sex or age that cannot be read (each with a warning): they would
        otherwise count as evidence of a person. An age under 18 is kept: it is a rule, not
        junk, and rejects the line once the party is known to be a person."""
        junk: list[tuple[str, str, str]] = []
        sexy = raw.get("sexy")
        if not _blank(sexy) and not (isinstance(sexy, str) and sexy.strip() in SEXES):
            junk.append(("sexy", "bad_sex", "性别 sexy 应为“男”“女”“男性”或“女性”"))
        age = raw.get("age")
        if not _blank(age):
            try:
                _age_number(age)
            except Rejection as exc:
                junk.append(("age", exc.code, exc.message))
        if not junk:
            return raw
        for name, code, message in junk:
            self._warn(name, raw[name], code, _dropped_message(message, name))
        return _without(raw, *(name for name, _, _ in junk))

    def _decide_party(
        self, raw: dict[str, Any], out: dict[str, Any], *, decide_type: bool
    ) -> dict[str, Any]:
        """``_party_and_card``, dropping an unusable ``cardNum`` or ``partyTypeName`` (with a
        warning) when the party type can be decided without it; when it cannot, the line is
        rejected for the field's own problem. Returns ``raw`` without what was dropped."""
        first: Rejection | None = None
        dropped: list[tuple[str, Any, Rejection]] = []
        while True:
            try:
                self._party_and_card(raw, out, decide_type)
                break
            except Rejection as exc:
                name = _DROPPABLE.get(exc.code)
                if name is None or name not in raw:
                    if first is not None and exc.code == "undecidable_party_type":
                        raise first from exc  # the dropped field was needed after all
                    raise
                first = first or exc
                dropped.append((name, raw[name], exc))
                raw = _without(raw, name)
        for name, value, exc in dropped:
            self._warn(name, value, exc.code, _dropped_message(exc.message, name))
            if name == "cardNum" and out.get("party_type") != PartyType.ORG:
                # Not good enough to list, but a birth date in it still counts for the
                # minors rule: we would rather reject an adult's typo than list a minor.
                birth = _apparent_birth_date(value)
                if birth is not None:
                    out.setdefault("birth_date", birth)
        return raw

    def _party_and_card(self, raw: dict[str, Any], out: dict[str, Any], decide_type: bool) -> None:
        kind: IdentifierKind | None = None
        normalized = ""
        card = raw.get("cardNum")
        if not _blank(card):
            try:
                kind, normalized = classify_identifier(str(card))
            except IdentifierError as exc:
                raise Rejection(exc.code, exc.message, "cardNum") from exc
        party = _party_type(raw, kind, decide=decide_type)
        if party is not None:
            out["party_type"] = party.value
        if kind is None:
            return
        if party is not None:  # a digits-only mask is read by the party it belongs to
            kind = for_party(kind, normalized, party == PartyType.PERSON)
            if (kind in PERSON_KINDS) != (party == PartyType.PERSON):
                raise Rejection(
                    "party_card_mismatch",
                    "当事人类型与证件号码不符：自然人应为身份证号，法人或其他组织应为统一社会信用代码或组织机构代码",
                    "cardNum",
                )
        out["card_display"] = display_form(kind, normalized)
        out["card_key"] = None if kind in MASKED_KINDS else keyed_hash(self._key, normalized)
        if kind == IdentifierKind.ID_NUMBER:
            out["birth_date"] = _birth_date(normalized)


# Rejections of ``_party_and_card`` that concern one optional field alone, and that field.
_DROPPABLE = dict.fromkeys(IDENTIFIER_CODES, "cardNum") | {"bad_party_type": "partyTypeName"}
_ID_SHAPE = re.compile(r"[0-9]{17}[0-9Xx]")


def _entry_id(raw: dict[str, Any]) -> str:
    value = raw.get("id")
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str) or not ENTRY_ID.match(value):
        raise Rejection(
            "bad_id", "条目编号 id 缺失或格式不正确（1–64 位字母、数字、- _ . :）", "id"
        )
    masked = mask_entry_id(value)
    if masked != value:  # the id is part of every public address of the entry
        raw["id"] = masked  # and the refused line is echoed: not with the number in it
        raise Rejection(
            "id_is_id_number",
            "条目编号 id 不得是或含有身份证号码：编号出现在公开的网址中，请改用法院自己的条目编号",
            "id",
        )
    return value


def _blank(value: Any) -> bool:
    """None, empty or a placeholder such as 暂无: the sender had nothing for this field."""
    return value is None or (isinstance(value, str) and value.strip().lower() in PLACEHOLDERS)


def _text(raw: dict[str, Any], name: str, required: bool = False, limit: int = MAX_TEXT) -> str:
    value = raw.get(name)
    if type(value) is str:  # the common case, kept cheap: this runs ~15 times a line
        value = value.strip()
        if not required and len(value) <= _PLACEHOLDER_LEN and value.lower() in PLACEHOLDERS:
            return ""
        if value and len(value) <= limit and "\x00" not in value:
            return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        value = str(value)
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            raise Rejection("missing_field", f"缺少必填字段 {name}", name)
        return ""
    if not isinstance(value, str):
        raise Rejection("bad_type", f"字段 {name} 应为文本", name)
    value = value.strip()
    if "\x00" in value:  # PostgreSQL cannot store it: the whole batch would fail
        message = f"字段 {name} 含有空字符（U+0000），请删去后重新提交"
        raise Rejection("nul_character", message, name)
    if len(value) > limit:
        raise Rejection("too_long", f"字段 {name} 过长（最多 {limit} 字）", name)
    return value


def _date(raw: dict[str, Any], name: str, required: bool = False) -> str | None:
    value = raw.get(name)
    if _blank(value):
        if required:
            raise Rejection("missing_field", f"缺少必填字段 {name}", name)
        return None
    try:
        # A listing period's end lies ahead by nature; every other date at most days ahead.
        latest = latest_period_end() if name == "validUntil" else None
        return parse_date(value, latest=latest).isoformat()
    except DateParseError as exc:
        raise Rejection("bad_date", f"字段 {name}：{exc}", name) from exc


def _instant(raw: dict[str, Any], name: str) -> datetime:
    try:
        return parse_instant(str(raw[name]))
    except DateParseError as exc:
        raise Rejection("bad_date", f"字段 {name}：{exc}", name) from exc


def _bool(raw: dict[str, Any], name: str) -> bool:
    value = raw.get(name)
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "1", "是", "yes"):
        return True
    if isinstance(value, str) and value.strip().lower() in ("false", "0", "否", "no"):
        return False
    raise Rejection("bad_type", f"字段 {name} 应为 true 或 false", name)


def _case_fields(
    raw: dict[str, Any], party_type: str | None, warnings: list[FieldWarning]
) -> dict[str, Any]:
    """The case fields given. Sex and age were checked already (``_usable_person_fields``);
    unusable text is dropped or cut, with a warning in ``warnings``."""
    fields: dict[str, Any] = {}
    for name in CASE_FIELDS:
        if name not in raw or _blank(raw[name]):
            continue
        if name == "age":
            if party_type != PartyType.ORG:  # an organization has no age; its "0" means none
                fields[name] = _age(raw[name])
        elif name == "sexy":
            fields[name] = _sex(_text(raw, name))
        else:
            text = _case_text(raw, name, warnings)
            if text is not None:
                fields[name] = text
    return fields


def _case_text(raw: dict[str, Any], name: str, warnings: list[FieldWarning]) -> str | None:
    try:
        return _text(raw, name)
    except Rejection as exc:
        value = raw[name]
        if exc.code == "too_long" and name in TRUNCATED_FIELDS:
            text = value.strip()
            message = (
                f"字段 {name} 过长（{len(text)} 字，最多 {MAX_TEXT} 字）："
                f"已截断，保留前 {MAX_TEXT - 1} 字并以“{ELLIPSIS}”结尾，该行其余内容照常导入"
            )
            warnings.append(FieldWarning.of(name, value, "truncated", message))
            return text[: MAX_TEXT - 1] + ELLIPSIS
        warnings.append(FieldWarning.of(name, value, exc.code, _dropped_message(exc.message, name)))
        return None


def _sex(value: str) -> str:
    sex = SEXES.get(value)
    if sex is None:
        raise Rejection("bad_sex", f"性别 sexy 应为“男”或“女”，收到 {value!r}", "sexy")
    return sex


def _age_number(value: Any) -> int:
    """The age given, whatever it is; junk raises ``bad_age`` (the value is not repeated: a
    warning carries it)."""
    try:
        age = int(str(value).strip().removesuffix("岁"))
    except ValueError as exc:
        raise Rejection("bad_age", "年龄 age 应为整数（可带“岁”）", "age") from exc
    if age > MAX_AGE:
        raise Rejection("bad_age", f"年龄 age 不合理：{age}（超过 {MAX_AGE}）", "age")
    return age


def _age(value: Any) -> int:
    age = _age_number(value)
    if age < MIN_AGE:
        raise Rejection("minor", "未成年人不得纳入失信被执行人名单（age 小于 18）", "age")
    return age


def _dropped_message(problem: str, field: str) -> str:
    """What was wrong and what we did, for a dropped optional field."""
    if len(problem) > WARNING_VALUE_LIMIT:  # a message that quotes a long value
        problem = problem[:WARNING_VALUE_LIMIT] + ELLIPSIS
    if field == "validUntil":
        return (
            f"{problem}；已忽略该字段，该条目暂无有效期、不会自动到期，"
            "请以更正（correct）补报 validUntil"
        )
    if field in ("cardNum", "partyTypeName"):
        return f"{problem}；已忽略该字段，当事人类型按其他字段判断，该行其余内容照常导入"
    return f"{problem}；已忽略该字段，该行其余内容照常导入"


def _without(raw: dict[str, Any], *names: str) -> dict[str, Any]:
    """A copy of ``raw`` without ``names`` (the caller's record stays as received: rejects
    echo it)."""
    return {k: v for k, v in raw.items() if k not in names}


def _apparent_birth_date(card: Any) -> str | None:
    """The birth date an 18-character ID-number-shaped ``card`` shows, if it is a date."""
    text = str(card).strip()
    if not _ID_SHAPE.fullmatch(text):
        return None
    try:
        return _birth_date(text)
    except ValueError:
        return None


def _birth_date(id_number: str) -> str:
    return date(int(id_number[6:10]), int(id_number[10:12]), int(id_number[12:14])).isoformat()


def _party_type(
    raw: dict[str, Any], kind: IdentifierKind | None, *, decide: bool
) -> PartyType | None:
    named = raw.get("partyTypeName")
    if not _blank(named):
        label = str(named).strip()
        if label in PERSON_TYPE_NAMES:
            return PartyType.PERSON
        if label in ORG_TYPE_NAMES:
            return PartyType.ORG
        raise Rejection(
            "bad_party_type",
            f"无法识别的当事人类型 partyTypeName={label!r}：应为“自然人”或“法人或其他组织”",
            "partyTypeName",
        )
    if not decide:
        return None
    if kind is not None:
        return PartyType.PERSON if kind in PERSON_KINDS else PartyType.ORG
    age = raw.get("age")
    has_age = not _blank(age) and str(age).strip() != ORG_AGE  # "0" is what organizations carry
    has_person = has_age or not _blank(raw.get("sexy"))
    has_org = not _blank(raw.get("businessEntity"))
    if has_person != has_org:
        return PartyType.PERSON if has_person else PartyType.ORG
    raise Rejection(
        "undecidable_party_type",
        "无法判断当事人是自然人还是法人：请填写 partyTypeName 或证件号码 cardNum",
        "partyTypeName",
    )


def _check_consistency(out: dict[str, Any]) -> None:
    publish, valid = out.get("publish_date"), out.get("valid_until")
    if publish and valid and valid < publish:
        raise Rejection("bad_period", "有效期 validUntil 早于发布日期 publishDate", "validUntil")
    birth = out.get("birth_date")
    if birth and publish and _years_between(birth, publish) < MIN_AGE:
        raise Rejection(
            "minor", "按身份证号计算，当事人发布时未满 18 周岁，不得纳入名单", "cardNum"
        )


def _years_between(earlier: str, later: str) -> int:
    a, b = date.fromisoformat(earlier), date.fromisoformat(later)
    return b.year - a.year - ((b.month, b.day) < (a.month, a.day))
