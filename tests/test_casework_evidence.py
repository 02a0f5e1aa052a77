"""Evidence files end to end: through the real intake forms into DATA_DIR/evidence, listed
on /track without a link, downloadable by the ticket's unit only, with safe headers; and
every disguised, empty, oversized or surplus upload refused with nothing kept (SQLite and
PostgreSQL)."""

from __future__ import annotations

import hashlib
import os
import struct
import time
import zlib
from collections.abc import Iterator
from pathlib import Path

import pytest
from casework_site import URL_ATTR, CaseSite, case_site, post, post_intake
from sqlalchemy import func, select
from test_casework_support import Casework, cw_fixture, routing_fixture  # noqa: F401

from casework.errors import InvalidInput, NotFound
from casework.evidence import EvidencePolicy, EvidenceStore, Upload, check, display_name
from casework.intake import AlreadySubmitted, Submission
from casework.service import CaseService
from casework.tables import ticket_evidence, tickets

MAX_FILE = 4096
MAX_FILES = 2
MAX_UPLOAD = 64 * 1024


def png(extra: int = 0) -> bytes:
    """A real 1x1 PNG, padded with an ancillary chunk to grow it by ``extra`` bytes."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    ihdr = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    padding = chunk(b"teXt", b"c\x00" + b"x" * extra) if extra else b""
    idat = chunk(b"IDAT", zlib.compress(b"\x00\xff\x00\x00"))
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + padding + idat + chunk(b"IEND", b"")


JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00" + b"\x00" * 64
PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
HTML = b"<!doctype html><html><body><script>alert(document.cookie)</script></body></html>"
SVG = b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'
EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"\x00" * 100


@pytest.fixture(name="ev")
def ev_fixture(tmp_path: Path, database_url: str) -> Iterator[CaseSite]:
    """The portal with small limits: 2 files of at most 4 KB, 64 KB per request."""
    with case_site(
        tmp_path,
        database_url,
        SHIXIN_EVIDENCE_MAX_FILE_BYTES=str(MAX_FILE),
        SHIXIN_EVIDENCE_MAX_FILES=str(MAX_FILES),
        SHIXIN_UPLOAD_MAX_BYTES=str(MAX_UPLOAD),
    ) as site:
        yield site


def evidence_dir(cs: CaseSite) -> Path:
    return cs.site.app.state.service.settings.data_dir / "evidence"


def stored_files(cs: CaseSite) -> list[Path]:
    root = evidence_dir(cs)
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


def counts(cs: CaseSite) -> tuple[int, int]:
    with cs.cases.store.read() as conn:
        return (
            conn.execute(select(func.count()).select_from(tickets)).scalar_one(),
            conn.execute(select(func.count()).select_from(ticket_evidence)).scalar_one(),
        )


REPORT = {"category": "consumption.hotel", "entry_id": "p1", "what": "入住五星级酒店"}


def test_photos_and_a_pdf_reach_the_unit_with_safe_download_headers(ev: CaseSite) -> None:
    form = ev.client.get("/reports/new").text
    assert 'enctype="multipart/form-data"' in form
    assert 'type="file" multiple' in form and 'accept="image/jpeg,' in form
    assert '<label for="f-evidence">' in form and "最多 2 个，每个不超过 4 KB" in form

    image = png()
    receipt = ev.submit(
        files=[
            ("evidence", ("酒店大堂.png", image, "image/png")),
            ("evidence", ("发票.pdf", PDF, "application/pdf")),
        ]
    )
    assert "酒店大堂.png" in receipt.response.text and "发票.pdf" in receipt.response.text
    # Stored by content hash, private to the service's user, outside the web root.
    digest = hashlib.sha256(image).hexdigest()
    path = evidence_dir(ev) / digest[:2] / digest
    assert path.read_bytes() == image and path.stat().st_mode & 0o777 == 0o600
    assert len(stored_files(ev)) == 2

    tourism = ev.login("tourism")
    ticket_id = ev.ticket_id(receipt.number)
    page = tourism.get(f"/unit/tickets/{ticket_id}").text
    links = [u for u in URL_ATTR.findall(page) if "/evidence/" in u]
    assert len(links) == 2
    png_file = tourism.get(links[0])
    assert png_file.status_code == 200 and png_file.content == image
    assert png_file.headers["content-type"] == "image/png"
    assert png_file.headers["content-disposition"] == (
        f'attachment; filename="evidence-{links[0].rsplit("/", 1)[1]}.png"; '
        "filename*=UTF-8''%E9%85%92%E5%BA%97%E5%A4%A7%E5%A0%82.png"
    )
    assert png_file.headers["x-content-type-options"] == "nosniff"
    assert png_file.headers["content-security-policy"] == "sandbox"
    assert png_file.headers["cache-control"] == "private, no-store"
    pdf_file = tourism.get(links[1])
    assert pdf_file.content == PDF and pdf_file.headers["content-type"] == "application/pdf"

    # Added later on /track, a JPEG joins them.
    added = post_intake(
        ev.client,
        "/track/add-info",
        {"number": receipt.number, "code": receipt.code, "text": ""},
        [("evidence", ("现场.jpg", JPEG, "image/jpeg"))],
        form_page="/track",
    )
    assert added.status_code == 200 and "补充材料已提交" in added.text
    assert "现场.jpg" in added.text and "补充了1个文件" in added.text
    page = tourism.get(f"/unit/tickets/{ticket_id}").text
    assert len([u for u in URL_ATTR.findall(page) if "/evidence/" in u]) == 3


def test_track_lists_the_files_but_nothing_public_serves_them(ev: CaseSite) -> None:
    receipt = ev.submit(files=[("evidence", ("证据.png", png(), "image/png"))])
    tracked = ev.track(receipt.number, receipt.code)
    assert "证据.png" in tracked.text and "本页不提供下载" in tracked.text
    assert not [u for u in URL_ATTR.findall(tracked.text) if "evidence" in u]
    ticket_id = ev.ticket_id(receipt.number)
    with ev.cases.store.read() as conn:
        evidence_id, digest = conn.execute(
            select(ticket_evidence.c.id, ticket_evidence.c.sha256)
        ).one()
    # Without a unit session the download leads to the login; the bytes are under no
    # public path, however it is spelled.
    anonymous = ev.client.get(
        f"/unit/tickets/{ticket_id}/evidence/{evidence_id}", follow_redirects=False
    )
    assert anonymous.status_code == 303 and anonymous.headers["location"] == "/unit/login"
    for path in (
        f"/static/{digest}",
        f"/static/../evidence/{digest[:2]}/{digest}",
        f"/evidence/{digest[:2]}/{digest}",
        f"/static/%2e%2e/data/evidence/{digest[:2]}/{digest}",
    ):
        assert ev.client.get(path).status_code == 404, path


def test_another_unit_and_guessed_ids_get_the_same_404(ev: CaseSite) -> None:
    mine = ev.submit(files=[("evidence", ("a.png", png(), "image/png"))])
    theirs = ev.submit(category="consumption.school", files=[("evidence", ("b.pdf", PDF, "x"))])
    mine_id, theirs_id = ev.ticket_id(mine.number), ev.ticket_id(theirs.number)
    with ev.cases.store.read() as conn:
        ids = dict(conn.execute(select(ticket_evidence.c.ticket_id, ticket_evidence.c.id)).all())
    tourism = ev.login("tourism")
    assert tourism.get(f"/unit/tickets/{mine_id}/evidence/{ids[mine_id]}").status_code == 200

    missing_path = f"/unit/tickets/{mine_id}/evidence/999999"
    missing = tourism.get(missing_path).text.replace(missing_path, "PATH")
    attempts = [
        f"/unit/tickets/{theirs_id}/evidence/{ids[theirs_id]}",  # another unit's ticket
        f"/unit/tickets/{mine_id}/evidence/{ids[theirs_id]}",  # its file under my ticket
        f"/unit/tickets/999999/evidence/{ids[mine_id]}",  # my file under no ticket
    ]
    for path in attempts:
        response = tourism.get(path)
        assert response.status_code == 404, path
        # The same page (it names its own address, in the language switch) as a missing id.
        assert response.text.replace(path, "PATH") == missing and b"%PDF" not in response.content
    education = ev.login("education")
    assert education.get(attempts[0]).content == PDF
    assert education.get(f"/unit/tickets/{mine_id}/evidence/{ids[mine_id]}").status_code == 404


@pytest.mark.parametrize(
    ("name", "data", "declared", "message"),
    [
        ("photo.jpg", HTML, "image/jpeg", "文件“photo.jpg”不是 JPEG、PNG、WebP、HEIC 图片或 PDF"),
        ("报告.pdf", EXE, "application/pdf", "文件“报告.pdf”不是"),
        ("map.svg", SVG, "image/svg+xml", "文件“map.svg”不是"),
        ("fake.pdf", b"%PDF" + b"x" * 50, "application/pdf", "文件“fake.pdf”不是"),
        ("empty.png", b"", "image/png", "文件“empty.png”是空的"),
        ("big.png", png(MAX_FILE), "image/png", "文件“big.png”有4 KB，超过每个文件4 KB的上限"),
    ],
)
def test_disguised_empty_or_oversized_files_are_refused_and_nothing_is_kept(
    ev: CaseSite, name: str, data: bytes, declared: str, message: str
) -> None:
    good = ("evidence", ("good.png", png(), "image/png"))
    response = post_intake(
        ev.client, "/reports/new", REPORT, [good, ("evidence", (name, data, declared))]
    )
    assert response.status_code == 422, response.text
    assert message in response.text and 'id="err-evidence"' in response.text
    assert "附件需要重新选择" in response.text and "入住五星级酒店" in response.text
    assert counts(ev) == (0, 0) and stored_files(ev) == []


def test_too_many_files_are_refused_and_nothing_is_kept(ev: CaseSite) -> None:
    files = [("evidence", (f"{i}.png", png(i), "image/png")) for i in range(MAX_FILES + 1)]
    response = post_intake(
        ev.client, "/complaints/new", {**REPORT, "category": "inaccurate-info"}, files
    )
    assert response.status_code == 422
    assert "最多上传2个文件，您选择了3个" in response.text
    assert counts(ev) == (0, 0) and stored_files(ev) == []


def test_a_valid_file_with_an_invalid_form_is_not_kept(ev: CaseSite) -> None:
    response = post_intake(
        ev.client,
        "/reports/new",
        {**REPORT, "entry_id": "secret"},
        [("evidence", ("a.png", png(), "image/png"))],
    )
    assert response.status_code == 422 and "未找到该条目" in response.text
    assert "附件需要重新选择" in response.text
    assert counts(ev) == (0, 0) and stored_files(ev) == []


def test_an_over_limit_request_gets_the_413_page_and_files_nothing(ev: CaseSite) -> None:
    huge = ("evidence", ("huge.png", png(MAX_UPLOAD), "image/png"))
    for path, data in (
        ("/reports/new", REPORT),
        ("/track/add-info", {"number": "JB-2026-AAAAAA", "code": "x", "text": "y"}),
    ):
        response = post_intake(ev.client, path, data, [huge], form_page="/reports/new")
        assert response.status_code == 413, path
        assert "提交内容过大" in response.text and "64 KB" in response.text
    assert counts(ev) == (0, 0) and stored_files(ev) == []
    # The larger cap is only for the forms that take files.
    assert MAX_UPLOAD < 1024 * 1024
    response = post(ev.client, "/track", {"number": "x" * (2 * 1024 * 1024)}, "/track")
    assert response.status_code == 413 and "1.0 MB" in response.text


def test_a_hostile_file_name_is_shown_inert_and_never_a_path(ev: CaseSite) -> None:
    hostile = "<img src=x onerror=alert(1)>{{ 7*7 }}\u202egnp.exe"
    receipt = ev.submit(
        files=[
            ("evidence", (hostile, png(), "image/png")),
            ("evidence", ("../../etc/passwd", PDF, "application/pdf")),
        ]
    )
    tourism = ev.login("tourism")
    pages = [
        receipt.response.text,
        ev.track(receipt.number, receipt.code).text,
        tourism.get(f"/unit/tickets/{ev.ticket_id(receipt.number)}").text,
    ]
    for page in pages:
        assert "<img src=x" not in page and "\u202e" not in page and ">49" not in page
        assert "&lt;img src=x onerror=alert(1)&gt;{{ 7*7 }}gnp.exe" in page
        assert "passwd" in page and "../" not in page
    # Only hash-named files exist, all inside DATA_DIR/evidence.
    assert all(len(p.name) == 64 and evidence_dir(ev) in p.parents for p in stored_files(ev))
    assert not (evidence_dir(ev).parent.parent / "etc").exists()


def test_check_and_display_name_directly() -> None:
    policy = EvidencePolicy(max_file_bytes=MAX_FILE, max_files=MAX_FILES)
    (checked,) = check([Upload("C:\\Users\\me\\IMG 1.jpg", JPEG)], policy)
    assert checked.filename == "IMG 1.jpg" and checked.media_type == "image/jpeg"
    assert display_name("a\x00b\x1b[31m\n.png") == "ab[31m.png"
    assert display_name("/") == "未命名文件"
    long = display_name("长" * 300 + ".pdf")
    assert len(long) == 120 and long.endswith("….pdf")
    with pytest.raises(InvalidInput) as refused:
        check([Upload("a.png", png())], EvidencePolicy(MAX_FILE, 0))
    assert refused.value.field == "evidence" and "不接受上传附件" in refused.value.detail


def with_evidence(cw: Casework, tmp_path: Path) -> tuple[CaseService, EvidenceStore]:
    """The casework service of ``cw`` with an evidence store under ``tmp_path``."""
    store = EvidenceStore(tmp_path / "evidence")
    cases = CaseService(
        cw.cases.store,
        cw.cases.routing,
        cw.cases.calendar,
        cw.clock,
        evidence_store=store,
        evidence_policy=EvidencePolicy(MAX_FILE, MAX_FILES),
    )
    return cases, store


def test_the_service_files_evidence_and_serves_it_only_to_units_that_see_the_ticket(
    cw: Casework, tmp_path: Path
) -> None:
    cases, _store = with_evidence(cw, tmp_path)
    sub = Submission(
        kind="report",
        category="consumption.hotel",
        debtor_name="张伟",
        what="入住五星级酒店",
        evidence=(Upload("a.png", png()),),
        once_key="k" * 20,
        telegram_link=True,
    )
    receipt = cases.submit(sub)
    assert receipt.telegram_token
    with pytest.raises(AlreadySubmitted):
        cases.submit(sub)
    view = cases.add_info(receipt.number, receipt.access_code, "", (Upload("b.pdf", PDF),))
    assert [(f.filename, f.media_type, f.size) for f in view.evidence] == [
        ("a.png", "image/png", len(png())),
        ("b.pdf", "application/pdf", len(PDF)),
    ]
    tourism = cw.unit("tourism")
    meta, path = cases.evidence_file(tourism, receipt.ticket_id, view.evidence[1].id)
    assert meta.filename == "b.pdf" and path.read_bytes() == PDF
    education = cw.unit("education")
    with pytest.raises(NotFound):
        cases.evidence_file(education, receipt.ticket_id, view.evidence[1].id)
    # A week later the key may be used again (it is kept for an hour).
    cw.clock.advance(days=7)
    assert cases.submit(sub).number != receipt.number


def test_orphan_files_go_after_a_day_and_files_in_use_stay(cw: Casework, tmp_path: Path) -> None:
    """A file whose ticket was never filed (its transaction failed after the write) is swept
    once a day old; a ticket's file stays however old, and so does a young orphan."""
    cases, store = with_evidence(cw, tmp_path)
    sub = Submission(
        kind="report",
        category="consumption.hotel",
        debtor_name="张伟",
        what="入住五星级酒店",
        evidence=(Upload("a.png", png()),),
    )
    receipt = cases.submit(sub)
    (kept,) = check([Upload("a.png", png())], EvidencePolicy(MAX_FILE, MAX_FILES))
    (orphan,) = check([Upload("b.pdf", PDF)], EvidencePolicy(MAX_FILE, MAX_FILES))
    (young,) = check([Upload("c.png", png(extra=10))], EvidencePolicy(MAX_FILE, MAX_FILES))
    two_days_ago = time.time() - 2 * 24 * 3600
    for file in (kept, orphan):
        os.utime(store.put(file), (two_days_ago, two_days_ago))
    store.put(young)
    crashed = store.path(orphan.sha256).with_name(".part-crashed")
    crashed.write_bytes(b"half a file")
    os.utime(crashed, (two_days_ago, two_days_ago))

    assert cases.sweep_orphan_evidence() == 1
    assert not store.path(orphan.sha256).exists() and not crashed.exists()
    assert store.path(young.sha256).exists()
    tourism = cw.unit("tourism")
    view = cases.ticket(tourism, receipt.ticket_id)
    _meta, path = cases.evidence_file(tourism, receipt.ticket_id, view.evidence[0].id)
    assert path.read_bytes() == png()

    # An old orphan used by a new submission is young again: the sweep leaves it.
    os.utime(store.put(orphan), (two_days_ago, two_days_ago))
    store.put(orphan)  # the same content submitted again refreshes it
    assert cases.sweep_orphan_evidence() == 0 and store.path(orphan.sha256).exists()
