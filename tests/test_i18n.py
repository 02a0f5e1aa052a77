"""The English catalogue covers every static text the templates mark for translation, and the
public complaint and report pages read in English apart from their data (SQLite and PostgreSQL)."""

from __future__ import annotations

import html
import re
from pathlib import Path
from typing import TYPE_CHECKING

from casework_site import CaseSite, cs_fixture, post, post_intake  # noqa: F401  (cs_fixture)

from casework.intake import Submission
from casework.tickets import STATE_NAMES
from portal import altcha, casework_pages, units_stats_page
from portal.translations import EN, FIELD_LABELS

if TYPE_CHECKING:
    from starlette.testclient import TestClient

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"
MARKED = re.compile(r"""_\((?:"([^"]+)"|'([^']+)')\)""")
PLACEHOLDER = re.compile(r"\{[a-z_]+\}")


def marked_strings() -> set[str]:
    found: set[str] = set()
    for template in TEMPLATES.rglob("*.html"):
        for double, single in MARKED.findall(template.read_text(encoding="utf-8")):
            found.add(double or single)
    return found


def test_every_marked_string_has_an_english_translation() -> None:
    marked = marked_strings()
    assert len(marked) > 100  # the pattern still finds them
    assert sorted(marked - EN.keys()) == []


def test_field_labels_are_translated() -> None:
    assert sorted(set(FIELD_LABELS.values()) - EN.keys() - {"姓名或名称", "案号"}) == []


def test_names_and_messages_translated_at_render_time_are_in_the_catalogue() -> None:
    """What the public casework pages pass to ``_(…)`` from code rather than literally."""
    passed = [
        *casework_pages.KIND_NAMES.values(),
        *casework_pages.ACTION_NAMES.values(),
        *(name + "期限" for name in casework_pages.DEADLINE_NAMES.values()),
        *casework_pages.DONE.values(),
        casework_pages.NOT_FOUND,
        altcha.INVALID_MESSAGE,
        *STATE_NAMES.values(),
        *(heading for heading, _larger_first in units_stats_page.SORTS.values()),
    ]
    assert sorted(set(passed) - EN.keys()) == []


def test_translations_keep_their_placeholders() -> None:
    for zh, en in EN.items():
        assert sorted(PLACEHOLDER.findall(zh)) == sorted(PLACEHOLDER.findall(en)), zh


# --- The public complaint and report pages in English ---------------------------------------
# Static text is English; what stays Chinese is data: the routing file's names and notes, the
# entry as the court published it, what the submitter typed, and the timeline's stored text.

CJK = re.compile(r"[\u3000-\u303f\u4e00-\u9fff\uff01-\uff5e]")  # characters and full-width marks
SCRIPT = re.compile(r"<script\b.*?</script>", re.S)
SWITCH = re.compile(r'<a id="lang-switch"[^>]*>中文</a>')  # the way back names its language
ENTRY_P1 = ["张伟", "(2023)京0105执1234号", "北京市朝阳区人民法院"]  # as the court published it


def routing_data(cs: CaseSite) -> list[str]:
    routing = cs.cases.routing
    texts = [routing.jurisdiction, routing.supervisor, *routing.areas.values()]
    texts += [unit.name for unit in routing.units.values()]
    for category in routing.categories.values():
        texts += [category.name, category.note]
    return texts


def leftover_chinese(page: str, data: list[str]) -> list[str]:
    """Chinese in the page (text and attributes) once the data is taken out, longest first
    so that a name inside a longer one goes with it."""
    text = SWITCH.sub("", SCRIPT.sub("", page))
    for item in sorted({d for d in data if d}, key=len, reverse=True):
        text = text.replace(html.escape(item), " ").replace(item, " ")
    return sorted({line.strip() for line in text.splitlines() if CJK.search(line)})


def english(client: TestClient, path: str) -> str:
    response = client.get(path + ("&" if "?" in path else "?") + "lang=en")
    assert response.status_code == 200, response.text
    assert '<html lang="en">' in response.text
    return response.text


def test_intake_forms_are_english_apart_from_data(cs: CaseSite) -> None:
    data = [*routing_data(cs), *ENTRY_P1]
    report = english(cs.client, "/reports/new?entry=p1")
    for words in ("Report a breach of the restrictions", "file a complaint", "Evidence"):
        assert words in report
    assert "Name of person or organization" in report and "张伟" in report  # data stays
    assert '<button type="submit" id="casework-submit">File a report</button>' in report
    assert leftover_chinese(report, data) == []

    complaint = english(cs.client, "/complaints/new")
    assert "Complain about a list entry" in complaint and "Type of complaint" in complaint
    assert "Name of the judgment debtor (person or organization)" in complaint
    assert leftover_chinese(complaint, data) == []

    # The choice is remembered: the next page is English without asking again.
    assert "Track a ticket" in cs.client.get("/track").text
    assert leftover_chinese(english(cs.client, "/track"), data) == []


def test_a_failed_submission_explains_itself_in_english(cs: CaseSite) -> None:
    cs.client.get("/reports/new", params={"lang": "en"})
    page = post_intake(
        cs.client,
        "/reports/new",
        {
            "category": "consumption.hotel",
            "entry_id": "p1",
            "what": "入住五星级酒店",
            "email": "not-an-email",
        },
    )
    assert page.status_code == 422
    assert "Not submitted. Please correct this and submit again" in page.text
    assert "This is not a valid email address" in page.text
    assert leftover_chinese(page.text, [*routing_data(cs), *ENTRY_P1, "入住五星级酒店"]) == []


def test_receipt_and_ticket_are_english_apart_from_data(cs: CaseSite) -> None:
    cs.client.get("/reports/new", params={"lang": "en"})
    typed = {"what": "被执行人入住五星级酒店", "when": "2026年9月28日", "where": "某大酒店"}
    receipt = cs.submit(**typed)
    page = receipt.response.text
    assert '<html lang="en">' in page
    for words in ("Your report was received", "Ticket number", "Access code", "Sent to "):
        assert words in page
    assert "<dt>Status</dt><dd><span" in page and ">Received</span>" in page
    view = cs.cases.track(receipt.number, receipt.code)
    assert view is not None
    stored = [item.message for item in view.timeline if item.message]
    data = [*routing_data(cs), *ENTRY_P1, *typed.values(), *stored]
    assert leftover_chinese(page, data) == []

    tracked = cs.track(receipt.number, receipt.code)
    assert tracked.status_code == 200
    text = tracked.text
    for words in (
        "Progress and replies",
        "Submission",
        "Deadline to accept",
        "Send the additional",
    ):
        assert words in text
    assert f'<h2 id="h-ticket">Report {receipt.number}</h2>' in text
    assert leftover_chinese(text, data) == []

    added = post(
        cs.client,
        "/track/add-info",
        {"number": receipt.number, "code": receipt.code, "text": "又看到一次"},
        "/track",
    )
    assert "Your additional information was sent." in added.text
    assert "Additional information" in added.text
    view = cs.cases.track(receipt.number, receipt.code)
    assert view is not None
    stored = [item.message for item in view.timeline if item.message]
    assert leftover_chinese(added.text, [*data, *stored]) == []

    wrong = cs.track(receipt.number, "WRONG-CODE-000")
    assert wrong.status_code == 404 and "No such ticket, or the access code is wrong" in wrong.text

    # The same pages in Chinese are unchanged.
    chinese = cs.track(receipt.number, receipt.code, client=cs.browser())
    assert "办理经过与答复" in chinese.text and "受理期限" in chinese.text


def test_unit_table_is_english_apart_from_data(cs: CaseSite) -> None:
    cs.cases.submit(
        Submission(kind="report", category="consumption.hotel", what="入住", debtor_name="张伟")
    )
    page = english(cs.client, "/stats/units")
    for words in ("How the handling bodies perform", "Median time to reply", "sorted by"):
        assert words in page
    assert leftover_chinese(page, routing_data(cs)) == []
    assert "各单位办理情况" in cs.client.get("/stats/units", params={"lang": "zh"}).text
