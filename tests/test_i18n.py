"""The English catalogue covers every static text the templates mark for translation."""

from __future__ import annotations

import re
from pathlib import Path

from portal.messages import EN, FIELD_LABELS

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"
MARKED = re.compile(r"""_\((?:"([^"]+)"|'([^']+)')\)""")
PLACEHOLDER = re.compile(r"\{[a-z_]+\}")


def marked_strings() -> set[str]:
    found: set[str] = set()
    for template in TEMPLATES.glob("*.html"):
        for double, single in MARKED.findall(template.read_text(encoding="utf-8")):
            found.add(double or single)
    return found


def test_every_marked_string_has_an_english_translation() -> None:
    marked = marked_strings()
    assert len(marked) > 100  # the pattern still finds them
    assert sorted(marked - EN.keys()) == []


def test_field_labels_are_translated() -> None:
    assert sorted(set(FIELD_LABELS.values()) - EN.keys() - {"姓名或名称", "案号"}) == []


def test_translations_keep_their_placeholders() -> None:
    for zh, en in EN.items():
        assert sorted(PLACEHOLDER.findall(zh)) == sorted(PLACEHOLDER.findall(en)), zh
