"""The site's static files under content-hashed names, cached for a year.

Templates write ``{{ static_url('site.css') }}`` and get ``/static/site.3f2a9c01be.css``:
the name carries the first hex digits of the file's SHA-256, so a deploy that changes a
file changes its address, and a browser may keep every address forever
(``Cache-Control: immutable``) without ever showing a stale file. The plain name
(``/static/site.css``) still answers, for files that scripts load by relative address, but
must be revalidated each time (``no-cache``, answered 304 from the ETag when unchanged).
A hashed name whose digits no longer match the file (a page from before a deploy) gets the
current file under the revalidating rule, never a year's promise.
"""

from __future__ import annotations

import hashlib
import os
import re
import time
from collections.abc import Callable
from pathlib import Path

from starlette.responses import Response
from starlette.staticfiles import StaticFiles
from starlette.types import Scope

DIGITS = 10
FOREVER = "public, max-age=31536000, immutable"
REVALIDATE = "no-cache"
RECHECK_SECONDS = 1.0  # how soon a file edited in place gets its new address
_HASHED = re.compile(rf"^(?P<stem>.+)\.(?P<digest>[0-9a-f]{{{DIGITS}}})(?P<suffix>\.[^./]+)$")


class StaticAssets(StaticFiles):
    """``StaticFiles`` over ``directory`` that also answers the hashed names."""

    def __init__(self, directory: Path, clock: Callable[[], float] = time.monotonic) -> None:
        super().__init__(directory=directory)
        self._clock = clock
        self.root = Path(directory)
        # path -> (mtime_ns, size, digest): a file edited in place gets a new digest.
        self._digests: dict[str, tuple[int, int, str]] = {}
        # path -> (when it was last looked at, its digest): every page names the same few
        # files, and a stat per name per page is most of what naming one costs.
        self._recent: dict[str, tuple[float, str | None]] = {}

    def url(self, path: str) -> str:
        """The address of ``path`` (relative to the directory) under its hashed name."""
        digest = self.digest(path)
        if digest is None:  # a template naming a missing file: the plain address, a 404
            return f"/static/{path}"
        stem, dot, suffix = path.rpartition(".")
        if not dot or "/" in suffix:
            return f"/static/{path}.{digest}"
        return f"/static/{stem}.{digest}.{suffix}"

    def digest(self, path: str) -> str | None:
        """The file's digest; looked at again at most every ``RECHECK_SECONDS``."""
        now = self._clock()
        recent = self._recent.get(path)
        if recent is not None and now - recent[0] < RECHECK_SECONDS:
            return recent[1]
        digest = self._current_digest(path)
        self._recent[path] = (now, digest)
        return digest

    def _current_digest(self, path: str) -> str | None:
        file = self.root / path
        try:
            stat = file.stat()
        except OSError:
            return None
        known = self._digests.get(path)
        if known is not None and known[:2] == (stat.st_mtime_ns, stat.st_size):
            return known[2]
        digest = hashlib.sha256(file.read_bytes()).hexdigest()[:DIGITS]
        self._digests[path] = (stat.st_mtime_ns, stat.st_size, digest)
        return digest

    async def get_response(self, path: str, scope: Scope) -> Response:
        plain, forever = self._resolve(path)
        response = await super().get_response(plain, scope)
        if response.status_code in (200, 304):
            response.headers["Cache-Control"] = FOREVER if forever else REVALIDATE
        return response

    def _resolve(self, path: str) -> tuple[str, bool]:
        """The file a requested path names, and whether its digest is the file's own."""
        match = _HASHED.match(path)
        if match is None:
            return path, False
        plain = match["stem"] + match["suffix"]
        if not (self.root / plain).is_file() and (self.root / path).is_file():
            return path, False  # a file whose own name happens to look hashed
        # The file as it is now, not the digest pages reuse for a second: a year's promise
        # must never go out for bytes the digits do not name.
        return plain, self._current_digest(plain.replace(os.sep, "/")) == match["digest"]
