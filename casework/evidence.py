"""Evidence files sent with a ticket: checked by content, stored by hash, never public.

The web forms and the JSON API both pass :class:`Upload` values to CaseService, whose intake
(casework/intake.py, casework/submitter_actions.py) calls :func:`check` and
:class:`EvidenceStore`. A file is accepted only if its bytes are a JPEG, PNG, WebP, HEIC
image or a PDF, whatever its name or declared type says: an HTML or SVG page
(script-capable) named ``photo.jpg`` is refused. The name the submitter's device gave
is kept for display only and never used as a path; the bytes live under
``DATA_DIR/evidence/<sha[:2]>/<sha256>``, outside the web root, and only the ticket's unit
can fetch them (``CaseService.evidence_file``).
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
import time
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import filetype

from casework.errors import InvalidInput
from core.settings import Settings

# What the content sniffed as -> the media type we store and serve it as.
ACCEPTED = {
    "image/jpeg": "image/jpeg",
    "image/png": "image/png",
    "image/webp": "image/webp",
    "image/heic": "image/heic",
    "application/pdf": "application/pdf",
}
ACCEPT_ATTR = "image/jpeg,image/png,image/webp,image/heic,application/pdf"
MAX_NAME = 120
_SHA = re.compile(r"^[0-9a-f]{64}$")
# A file nothing refers to is removed once this old: far longer than any submission's
# transaction, so a file written for a ticket being filed right now is never taken.
ORPHAN_AGE_SECONDS = 24 * 3600


@dataclass(frozen=True, slots=True)
class Upload:
    filename: str  # as the submitter's device named it: display only
    data: bytes


@dataclass(frozen=True, slots=True)
class EvidencePolicy:
    max_file_bytes: int = 10 * 1024 * 1024
    max_files: int = 5

    @classmethod
    def from_settings(cls, settings: Settings) -> EvidencePolicy:
        return cls(settings.evidence_max_file_bytes, settings.evidence_max_files)

    @property
    def size_text(self) -> str:
        return size_text(self.max_file_bytes)


@dataclass(frozen=True, slots=True)
class CheckedFile:
    filename: str  # cleaned display name
    media_type: str
    data: bytes
    sha256: str

    @property
    def size(self) -> int:
        return len(self.data)


def size_text(size: int) -> str:
    if size >= 1024 * 1024:
        return f"{size / 2**20:.1f} MB"
    if size >= 1024:
        return f"{size / 1024:.0f} KB"
    return f"{size} 字节"


def display_name(raw: str) -> str:
    """The last path component, without control or format characters (which could reverse
    text on screen), capped. Display-only: templates escape it like any other text."""
    name = re.split(r"[/\\]", raw or "")[-1]
    name = "".join(c for c in name if unicodedata.category(c)[0] != "C").strip()
    if len(name) > MAX_NAME:
        _, dot, ext = name.rpartition(".")
        keep = f".{ext}" if dot and len(ext) <= 8 else ""
        name = name[: MAX_NAME - len(keep) - 1] + "…" + keep
    return name or "未命名文件"


def sniff(data: bytes) -> str | None:
    """The accepted media type the content really is, or None."""
    kind = filetype.guess(data)
    media = ACCEPTED.get(kind.mime) if kind is not None else None
    if media == "application/pdf" and not data.startswith(b"%PDF-"):
        return None
    return media


def check(uploads: Iterable[Upload], policy: EvidencePolicy) -> list[CheckedFile]:
    """Every upload typed by its content, or InvalidInput("evidence", ...) naming the first
    file that is refused. Nothing is stored here."""
    uploads = list(uploads)
    if len(uploads) > policy.max_files:
        if policy.max_files == 0:
            raise InvalidInput("evidence", "本网站目前不接受上传附件")
        raise InvalidInput(
            "evidence", f"最多上传{policy.max_files}个文件，您选择了{len(uploads)}个"
        )
    checked = []
    for upload in uploads:
        name = display_name(upload.filename)
        if not upload.data:
            raise InvalidInput("evidence", f"文件“{name}”是空的")
        if len(upload.data) > policy.max_file_bytes:
            raise InvalidInput(
                "evidence",
                f"文件“{name}”有{size_text(len(upload.data))}，"
                f"超过每个文件{policy.size_text}的上限",
            )
        media = sniff(upload.data)
        if media is None:
            raise InvalidInput(
                "evidence",
                f"文件“{name}”不是 JPEG、PNG、WebP、HEIC 图片或 PDF 文件"
                "（按文件内容判断，与文件名无关）",
            )
        digest = hashlib.sha256(upload.data).hexdigest()
        checked.append(CheckedFile(name, media, upload.data, digest))
    return checked


class EvidenceStore:
    """Content-addressed files under ``root``. A file is written (and synced) before the
    ticket transaction that refers to it commits, so an accepted ticket never points at a
    missing file. If that transaction then fails, the file stays as an orphan: harmless,
    since nothing refers to it and the same content submitted again maps to the same name."""

    def __init__(self, root: Path) -> None:
        self.root = root

    @classmethod
    def from_settings(cls, settings: Settings) -> EvidenceStore:
        return cls(settings.data_dir / "evidence")

    def path(self, sha256: str) -> Path:
        if not _SHA.match(sha256):  # only our own hashes ever become paths
            raise ValueError("not a sha256")
        return self.root / sha256[:2] / sha256

    def put(self, file: CheckedFile) -> Path:
        final = self.path(file.sha256)
        if final.exists():
            os.utime(final)  # in use again: young, so the orphan sweep leaves it alone
            return final
        final.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        # Write under a temporary name and rename: a crash never leaves a half file under
        # the final name, and two writers of the same content both end with a whole one.
        fd, tmp = tempfile.mkstemp(dir=final.parent, prefix=".part-")  # mode 0600
        try:
            with os.fdopen(fd, "wb") as out:
                out.write(file.data)
                out.flush()
                os.fsync(out.fileno())
            os.replace(tmp, final)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        dir_fd = os.open(final.parent, os.O_RDONLY)
        try:
            os.fsync(dir_fd)  # the rename itself survives a crash
        finally:
            os.close(dir_fd)
        return final

    def open(self, sha256: str) -> Path:
        """The stored file's path; FileNotFoundError if it is not there."""
        path = self.path(sha256)
        if not path.is_file():
            raise FileNotFoundError(sha256)
        return path

    def old_files(self, min_age: float = ORPHAN_AGE_SECONDS) -> list[str]:
        """The hashes of stored files untouched for ``min_age`` seconds (candidates for the
        orphan sweep); leftover temporary files of that age are deleted on the way."""
        cutoff = time.time() - min_age
        found = []
        for path in self.root.glob("??/*"):
            try:
                if path.stat().st_mtime >= cutoff:
                    continue
            except FileNotFoundError:
                continue
            if _SHA.match(path.name):
                found.append(path.name)
            elif path.name.startswith(".part-"):  # a crash between write and rename
                path.unlink(missing_ok=True)
            elif path.name.startswith(".sweep-"):  # a crash mid-sweep: put it back first
                final = path.with_name(path.name.removeprefix(".sweep-"))
                if final.exists():
                    path.unlink(missing_ok=True)
                else:
                    os.rename(path, final)
        return found

    def remove_orphans(self, hashes: Iterable[str], min_age: float = ORPHAN_AGE_SECONDS) -> int:
        """Delete these files (found unreferenced), unless one was used again meanwhile.

        Each is first renamed aside, then its age is read again: a submission that reused it
        before the rename refreshed its time (``put``) and gets it back; one after the rename
        finds no file and writes it anew. Either way no ticket is left pointing at nothing."""
        removed = 0
        cutoff = time.time() - min_age
        for sha in hashes:
            final = self.path(sha)
            aside = final.with_name(f".sweep-{sha}")
            try:
                os.rename(final, aside)
            except FileNotFoundError:
                continue
            if aside.stat().st_mtime < cutoff:
                aside.unlink()
                removed += 1
            elif final.exists():  # written anew meanwhile: the same content
                aside.unlink()
            else:
                os.rename(aside, final)
        return removed
