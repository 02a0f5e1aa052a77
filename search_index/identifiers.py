"""Identifiers on the list: resident ID numbers, unified social credit codes, organization codes.

A full ID number never reaches the public index. It is validated here, shown masked the way the
national platform shows it (``3423011964****3224``), and matched through a keyed hash, so the
index cannot be reversed into ID numbers by hashing every plausible one.

Real records also carry the older forms, and they are read as the national platform writes
them: masked ID numbers of 10 + 4 + 4 characters and, in older records, 11 + 4 + 4 (read as the
10 + 4 + 4 form they stand for); masked credit codes (``9114082306****333G``); organization codes
with or without their hyphen (shown as ``55269853-1``); 15-digit first-generation ID numbers,
read as the 18-digit number GB 11643-1999 turned them into (``19`` inserted before the year, a
check character appended), so a search by either finds the same person.

Check characters follow the national standards:
- resident ID number, GB 11643-1999: ISO 7064 MOD 11-2;
- unified social credit code, GB 32100-2015: ISO 7064 MOD 31-3 over 31 characters;
- organization code, GB 11714-1997: weighted MOD 11.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from datetime import date
from enum import StrEnum
from functools import lru_cache
from operator import mul

from search_index.dates import today_cst
from search_index.normalize import fold_width

__all__ = [
    "MASKED_KINDS",
    "PERSON_KINDS",
    "IdentifierError",
    "IdentifierKind",
    "classify_identifier",
    "credit_code_check_char",
    "display_form",
    "for_party",
    "id_check_char",
    "is_masked_id",
    "is_valid_credit_code",
    "is_valid_id_number",
    "is_valid_org_code",
    "keyed_hash",
    "mask_id_number",
    "masked_form",
    "normalize_identifier",
    "org_code_check_char",
    "upgrade_id15",
]


class IdentifierKind(StrEnum):
    ID_NUMBER = "id_number"
    MASKED_ID = "masked_id"
    CREDIT_CODE = "credit_code"
    MASKED_CREDIT_CODE = "masked_credit_code"
    ORG_CODE = "org_code"


# The kinds a natural person carries; the others belong to organizations.
PERSON_KINDS = frozenset({IdentifierKind.ID_NUMBER, IdentifierKind.MASKED_ID})
# The kinds that are only ever seen masked: there is nothing to hash.
MASKED_KINDS = frozenset({IdentifierKind.MASKED_ID, IdentifierKind.MASKED_CREDIT_CODE})


_MESSAGES = {
    "bad_id_checksum": "身份证号码校验位不正确，请逐位核对",
    "bad_id_birthdate": "身份证号码中的出生日期（第7至14位）不是有效日期",
    "bad_id_region": "身份证号码前6位地址码不能全为0",
    "bad_credit_code_checksum": "统一社会信用代码校验位不正确，请逐位核对",
    "bad_credit_code_charset": (
        "统一社会信用代码不使用字母I、O、S、V、Z，请检查是否把数字1、0、5、2误录成了字母"
    ),
    "bad_org_code_checksum": "组织机构代码校验位不正确，请逐位核对",
    "unrecognized_identifier": (
        "无法识别的证件号码：应为18位或15位身份证号、统一社会信用代码或组织机构代码"
    ),
}


class IdentifierError(ValueError):
    """An identifier that is not valid, with a machine ``code`` and a ``message`` for people."""

    def __init__(self, code: str) -> None:
        self.code = code
        self.message = _MESSAGES[code]
        super().__init__(self.message)


# Whitespace, zero-width characters, and the hyphens and dashes people type between the parts
# of an organization code ("12345678-9"); full-width ones have been folded by then.
_DASHES = "-\u2010\u2011\u2012\u2013\u2014\u2015\u2212"
_ZERO_WIDTH = "\u200b\u200c\u200d\u2060\ufeff"
_STRIP_TABLE = dict.fromkeys(
    [cp for cp in range(0x3001) if chr(cp).isspace()] + [ord(ch) for ch in _DASHES + _ZERO_WIDTH]
)

_ID_SHAPE_RE = re.compile(r"[0-9]{17}[0-9X]")
_ID15_SHAPE_RE = re.compile(r"[0-9]{15}")
_MASKED_ID_RE = re.compile(r"[0-9]{10}\*{4}[0-9]{3}[0-9X]")
# Older records show one more digit before the stars (the first digit of the month): the
# same number, read as the 10 + 4 + 4 form.
_MASKED_ID_OLD_RE = re.compile(r"([0-9]{10})[0-9]\*{4}([0-9]{3}[0-9X])")
# A 15-digit number masked the same way: region, two-digit year, ****, sequence.
_MASKED_ID15_RE = re.compile(r"[0-9]{8}\*{4}[0-9]{3}")
# The first two digits of a resident ID number: a province (GB/T 2260) or 71, 81, 82, 83
# (Taiwan, Hong Kong, Macao, residence permits).
_PROVINCE_RANGES = ((11, 15), (21, 23), (31, 37), (41, 46), (50, 54), (61, 65), (71, 71), (81, 83))
_PROVINCES = frozenset(str(code) for low, high in _PROVINCE_RANGES for code in range(low, high + 1))
_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK_CHARS = "10X98765432"  # indexed by weighted sum mod 11
_ID_BYTE_OFFSET = ord("0") * sum(_ID_WEIGHTS)
_EARLIEST_BIRTH = date(1900, 1, 1)

_CREDIT_CHARSET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_CREDIT_VALUES = {ch: value for value, ch in enumerate(_CREDIT_CHARSET)}
_CREDIT_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
# Registration authority and category, region code (GB/T 2260, digits), body, check character.
_CREDIT_SHAPE_RE = re.compile(r"[0-9A-HJ-NP-RTUWXY]{2}[0-9]{6}[0-9A-HJ-NP-RTUWXY]{10}")
_CREDIT_LOOKALIKE_RE = re.compile(r"[0-9A-Z]{2}[0-9]{6}[0-9A-Z]{10}")
# The national platform hides characters 11 to 14 of a credit code: 9114082306****333G.
_MASKED_CREDIT_RE = re.compile(
    r"[0-9A-HJ-NP-RTUWXY]{2}[0-9]{6}[0-9A-HJ-NP-RTUWXY]{2}\*{4}[0-9A-HJ-NP-RTUWXY]{4}"
)

_ORG_SHAPE_RE = re.compile(r"[0-9A-Z]{8}[0-9X]")
_ORG_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)


def normalize_identifier(text: str) -> str:
    """Half-width, no whitespace or hyphens, upper-case (a lower-case ``x`` check digit is
    common in typed ID numbers)."""
    # Most identifiers arrive as plain ASCII letters and digits, with nothing to fold or strip.
    if text.isascii() and text.isalnum():
        return text.upper()
    return fold_width(text).translate(_STRIP_TABLE).upper()


# Resident ID numbers


def id_check_char(first17: str) -> str:
    """ISO 7064 MOD 11-2 check character of a resident ID number."""
    if len(first17) != 17 or not first17.isascii() or not first17.isdigit():
        raise ValueError(f"expected 17 digits, got {first17!r}")
    # An ASCII digit's byte is 48 + its value, so the weighted byte sum minus a constant is the
    # weighted digit sum, without an int() per character on the import hot path.
    total = sum(map(mul, first17.encode("ascii"), _ID_WEIGHTS)) - _ID_BYTE_OFFSET
    return _ID_CHECK_CHARS[total % 11]


def is_valid_id_number(s: str) -> bool:
    return _id_number_problem(normalize_identifier(s)) is None


def mask_id_number(full: str) -> str:
    """Hide birth month and day, as the national platform does: ``3423011964****3224``. A
    15-digit number is masked in its 18-digit form."""
    normalized = normalize_identifier(full)
    if _ID15_SHAPE_RE.fullmatch(normalized):
        normalized = upgrade_id15(normalized)
    if _ID_SHAPE_RE.fullmatch(normalized) is None:
        # Masking something that is not an ID number could publish it in clear.
        raise IdentifierError("unrecognized_identifier")
    return normalized[:10] + "****" + normalized[14:]


def is_masked_id(s: str) -> bool:
    normalized = normalize_identifier(s)
    return any(
        pattern.fullmatch(normalized) is not None
        for pattern in (_MASKED_ID_RE, _MASKED_ID_OLD_RE, _MASKED_ID15_RE)
    )


def upgrade_id15(id15: str) -> str:
    """The 18-digit number a first-generation 15-digit ID number became (GB 11643-1999:
    century 19 inserted before the two-digit year, check character appended)."""
    first17 = id15[:6] + "19" + id15[6:]
    return first17 + id_check_char(first17)


def _id_number_problem(normalized: str) -> str | None:
    """The error code for an 18-character candidate ID number, None when it is valid. The
    checksum comes first: a mistyped digit anywhere, birth date included, breaks it."""
    if _ID_SHAPE_RE.fullmatch(normalized) is None:
        return "unrecognized_identifier"
    if id_check_char(normalized[:17]) != normalized[17]:
        return "bad_id_checksum"
    if not _plausible_birth_date(normalized[6:14]):
        return "bad_id_birthdate"
    if normalized.startswith("000000"):
        return "bad_id_region"
    return None


def _plausible_birth_date(yyyymmdd: str) -> bool:
    born = _calendar_date(yyyymmdd)
    return born is not None and _EARLIEST_BIRTH <= born <= today_cst()


@lru_cache(maxsize=65536)
def _calendar_date(yyyymmdd: str) -> date | None:
    # Pure, so cacheable; "today" is compared outside. Birth dates repeat a lot over a list.
    try:
        return date(int(yyyymmdd[:4]), int(yyyymmdd[4:6]), int(yyyymmdd[6:]))
    except ValueError:
        return None


# Unified social credit codes


def credit_code_check_char(first17: str) -> str:
    """GB 32100-2015 check character: 31 - (weighted sum mod 31), with 31 written as 0."""
    if len(first17) != 17 or any(ch not in _CREDIT_VALUES for ch in first17):
        raise ValueError(f"expected 17 credit-code characters, got {first17!r}")
    total = sum(
        _CREDIT_VALUES[ch] * weight for ch, weight in zip(first17, _CREDIT_WEIGHTS, strict=True)
    )
    return _CREDIT_CHARSET[(31 - total % 31) % 31]


def is_valid_credit_code(s: str) -> bool:
    """Shape and overall check character. The embedded organization code's own check digit
    is deliberately not required: it is not needed to catch typos, and rejecting a real code
    would keep a listed organization out of the index."""
    normalized = normalize_identifier(s)
    if _CREDIT_SHAPE_RE.fullmatch(normalized) is None:
        return False
    return credit_code_check_char(normalized[:17]) == normalized[17]


# Organization codes


def org_code_check_char(first8: str) -> str:
    """GB 11714-1997 check character: 11 - (weighted sum mod 11), 10 as X, 11 as 0."""
    if len(first8) != 8 or _ORG_SHAPE_RE.fullmatch(first8 + "0") is None:
        raise ValueError(f"expected 8 organization-code characters, got {first8!r}")
    total = sum(_org_value(ch) * weight for ch, weight in zip(first8, _ORG_WEIGHTS, strict=True))
    check = 11 - total % 11
    return {10: "X", 11: "0"}.get(check, str(check))


def is_valid_org_code(s: str) -> bool:
    normalized = normalize_identifier(s)
    if _ORG_SHAPE_RE.fullmatch(normalized) is None:
        return False
    return org_code_check_char(normalized[:8]) == normalized[8]


def _org_value(ch: str) -> int:
    # Digits are worth themselves, letters A=10 ... Z=35.
    return int(ch) if ch.isdigit() else ord(ch) - 55


# Classification


def classify_identifier(raw: str) -> tuple[IdentifierKind, str]:
    """The kind of identifier and its normalized form; IdentifierError names the likeliest
    mistake when it is none of them.

    A masked number of digits only (``9141042155****5884``) may be a person's or a credit
    code: it is read by its first two digits (a province: a person), and ``for_party``
    re-reads it when the entry says which party it is."""
    normalized = normalize_identifier(raw)
    if "*" in normalized:
        return _classify_masked(normalized)
    if len(normalized) == 18:
        return _classify_18(normalized), normalized
    if len(normalized) == 15 and _ID15_SHAPE_RE.fullmatch(normalized):
        return IdentifierKind.ID_NUMBER, _upgraded_id15(normalized)
    if len(normalized) == 9 and _ORG_SHAPE_RE.fullmatch(normalized):
        if not is_valid_org_code(normalized):
            raise IdentifierError("bad_org_code_checksum")
        return IdentifierKind.ORG_CODE, normalized
    raise IdentifierError("unrecognized_identifier")


def for_party(kind: IdentifierKind, normalized: str, person: bool) -> IdentifierKind:
    """The kind of a masked number once the party type is known: digits-only masks fit both
    a person's ID number and a credit code."""
    if person and kind is IdentifierKind.MASKED_CREDIT_CODE and _MASKED_ID_RE.fullmatch(normalized):
        return IdentifierKind.MASKED_ID
    if not person and kind is IdentifierKind.MASKED_ID and _MASKED_CREDIT_RE.fullmatch(normalized):
        return IdentifierKind.MASKED_CREDIT_CODE
    return kind


def _classify_masked(normalized: str) -> tuple[IdentifierKind, str]:
    if old := _MASKED_ID_OLD_RE.fullmatch(normalized):
        return IdentifierKind.MASKED_ID, f"{old[1]}****{old[2]}"
    if _MASKED_ID15_RE.fullmatch(normalized):
        return IdentifierKind.MASKED_ID, normalized
    if _MASKED_ID_RE.fullmatch(normalized) and normalized[:2] in _PROVINCES:
        return IdentifierKind.MASKED_ID, normalized
    if _MASKED_CREDIT_RE.fullmatch(normalized):
        return IdentifierKind.MASKED_CREDIT_CODE, normalized
    raise IdentifierError("unrecognized_identifier")


def _upgraded_id15(id15: str) -> str:
    """A 15-digit ID number checked (birth date in the 1900s, a region) and upgraded."""
    if not _plausible_birth_date("19" + id15[6:12]):
        raise IdentifierError("bad_id_birthdate")
    if id15.startswith("000000"):
        raise IdentifierError("bad_id_region")
    return upgrade_id15(id15)


def _classify_18(normalized: str) -> IdentifierKind:
    if _ID_SHAPE_RE.fullmatch(normalized):
        return _classify_digits_18(normalized)
    if _CREDIT_SHAPE_RE.fullmatch(normalized):
        if not is_valid_credit_code(normalized):
            raise IdentifierError("bad_credit_code_checksum")
        return IdentifierKind.CREDIT_CODE
    if _CREDIT_LOOKALIKE_RE.fullmatch(normalized):
        raise IdentifierError("bad_credit_code_charset")
    raise IdentifierError("unrecognized_identifier")


def _classify_digits_18(normalized: str) -> IdentifierKind:
    """Eighteen digits may be an ID number or an all-digit credit code (914403001922038216).
    One ID number in 31 with a mistyped digit also passes the credit-code checksum, so a
    string that reads like an ID number (plausible birth date) counts as a credit code only
    if its embedded organization code checks out too."""
    problem = _id_number_problem(normalized)
    if problem is None:
        return IdentifierKind.ID_NUMBER
    if is_valid_credit_code(normalized) and (
        not _plausible_birth_date(normalized[6:14]) or is_valid_org_code(normalized[8:17])
    ):
        return IdentifierKind.CREDIT_CODE
    raise IdentifierError(problem)


# Public forms


@lru_cache(maxsize=8)
def _hmac_for_key(key: str) -> hmac.HMAC:
    if not key:
        # An empty key makes the hash a plain SHA-256 anyone can precompute for all IDs.
        raise ValueError("keyed_hash needs a non-empty secret key")
    return hmac.new(key.encode(), digestmod=hashlib.sha256)


def keyed_hash(key: str, normalized: str) -> str:
    """HMAC-SHA256 of a normalized identifier under the secret key, 32 hex characters."""
    mac = _hmac_for_key(key).copy()
    mac.update(normalized.encode())
    return mac.hexdigest()[:32]


def display_form(kind: IdentifierKind, normalized: str) -> str:
    """What the index keeps and matches: ID numbers masked, codes as they are (an
    organization code without its hyphen; ``types.public_card`` adds it for people)."""
    if kind is IdentifierKind.ID_NUMBER:
        return mask_id_number(normalized)
    return normalized


def masked_form(kind: IdentifierKind, normalized: str) -> str | None:
    """How the national platform shows this full identifier masked, which is all that
    masked-only entries can be matched on; None for organization codes (never masked)."""
    if kind is IdentifierKind.ID_NUMBER:
        return mask_id_number(normalized)
    if kind is IdentifierKind.CREDIT_CODE:
        return normalized[:10] + "****" + normalized[14:]
    return None
