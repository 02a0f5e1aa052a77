"""Walk the site like a visitor: every link on every page leads somewhere, and no page shows
a full ID number or anything of a removed or never-public entry."""

from __future__ import annotations

import re
from collections import deque
from datetime import datetime
from html import unescape
from pathlib import Path
from urllib.parse import urlsplit

from site_support import full_ids_in, masked, running
from support import credit_code, id_number, make_settings, org, person, removal

from search_index.dates import CST

LINK = re.compile(r'href="([^"]+)"')
ID_KEPT = id_number("110105", "19800101", "123")
ID_GONE = id_number("110105", "19800101", "567")
ID_SECRET = id_number("110105", "19800101", "678")
GONE = ("赵移除", "(2020)京0105执7号", masked(ID_GONE))
SECRET = ("钱不宜", "(2020)京0105执8号", masked(ID_SECRET))
START = [
    "/",
    "/?q=伟",
    "/?partyType=org",
    "/?q=赵移除",
    "/?court=朝阳",
    "/status",
    "/stats",
    "/?lang=en",
    "/nowhere",
]


def test_every_link_works_and_nothing_private_shows(tmp_path: Path, database_url: str) -> None:
    # The walk asks for a few hundred pages in seconds (the quarterly reports alone are a
    # page and two downloads per quarter since 2023): past one visitor's page budget.
    settings = make_settings(tmp_path, database_url, SHIXIN_RATE_LIMIT_PAGES="1000/minute")
    with running(settings) as site:
        site.publish(
            person("zw", iname="张伟", cardNum=ID_KEPT),
            person("lw", iname="李伟", cardNum=id_number(), caseCode="(2024)京0105执9号"),
            org("abc", cardNum=credit_code()),
            person("gone", iname=GONE[0], caseCode=GONE[1], cardNum=ID_GONE),
            person(
                "secret", iname=SECRET[0], caseCode=SECRET[1], cardNum=ID_SECRET, disclose=False
            ),
        )
        site.publish(removal("shield", "gone", datetime.now(CST).isoformat(timespec="seconds")))
        seen: dict[str, int] = {}
        queue = deque(START)
        while queue and len(seen) < 200:
            url = queue.popleft()
            if url in seen:
                continue
            response = site.client.get(url)
            seen[url] = response.status_code
            body = response.text
            assert full_ids_in(body) == [], url
            for private in (*GONE, *SECRET):
                if not (url.startswith("/?q=") and private == GONE[0]):  # it echoes the query
                    assert private not in body, (url, private)
            if "text/html" not in response.headers.get("content-type", ""):
                continue
            for href in LINK.findall(body):
                href = unescape(href)
                parts = urlsplit(href)
                assert not parts.netloc or parts.netloc == "testserver", (url, href)
                if not href.startswith("#"):
                    queue.append(parts.path + (f"?{parts.query}" if parts.query else ""))
        # The 404 page's language switch leads to the same 404 page, in the other language.
        broken = {
            u: code for u, code in seen.items() if code >= 400 and urlsplit(u).path != "/nowhere"
        }
        assert broken == {}
        assert {"/entries/zw", "/entries/abc", "/status", "/stats"} <= set(seen)
        assert any(re.fullmatch(r"/static/site\.[0-9a-f]{10}\.css", u) for u in seen)
        assert "/entries/gone" not in seen and "/entries/secret" not in seen

        # The posted pages too: a status match for the removed entry, a search by ID number.
        for page in (
            site.post_form("/status", {"caseCode": GONE[1], "name": GONE[0], "cardNum": ID_GONE}),
            site.post_form(
                "/status", {"caseCode": SECRET[1], "name": SECRET[0], "cardNum": ID_SECRET}
            ),
            site.post_form("/search", {"cardNum": ID_GONE}, form_page="/"),
            site.post_form("/search", {"cardNum": ID_KEPT}, form_page="/"),
        ):
            assert page.status_code == 200
            assert full_ids_in(page.text) == []
            answer = page.text.split("</form>")[-1]  # the form keeps what a mismatch typed
            for private in (*GONE, *SECRET):
                assert private not in answer
