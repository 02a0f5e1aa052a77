"""The README's examples work as written: its JSON Lines go through ``shixin import``, its
curl calls are replayed against the portal on the data ``make demo`` makes, and every
``shixin`` command it shows exists with the options it shows.

The curl calls are parsed, not run by a shell: each goes through the test client, and a
``VAR=$(curl … | python3 -c …)`` line runs its Python on the answer, as the shell would.
The one liberty taken is the README's own: where a later call uses what an earlier answer
held (a ticket number and access code), the values the README shows are replaced by the
ones the portal really answered.
"""

from __future__ import annotations

import mimetypes
import os
import re
import shlex
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson
import pytest
from readme_support import (
    README,
    ROOT,
    blocks,
    check_command_words,
    inline_shixin_commands,
    section,
    shell_statements,
    words,
)
from site_support import TestClient, running
from support import KEY

from core.settings import load_settings
from shixin.cli import _parser, main

# A real JPEG's first bytes: the evidence check types files by content, never by name.
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00" + b"\x00" * 64


@contextmanager
def shixin_env(data_dir: Path) -> Iterator[None]:
    """The environment a newcomer's shell has: only the data directory is set (and a fixed
    hash key, so no key file is generated); nothing of the test runner's SHIXIN_*."""
    with pytest.MonkeyPatch.context() as patch:
        for name in [n for n in os.environ if n.startswith("SHIXIN_")]:
            patch.delenv(name)
        patch.setenv("SHIXIN_DATA_DIR", str(data_dir))
        patch.setenv("SHIXIN_ID_HASH_KEY", KEY)
        yield


# The ingest example


def ingest_example() -> list[str]:
    (block,) = [b for b in blocks(section("The ingest format")) if b.lang == "json"]
    return block.body.splitlines()


def test_the_ingest_example_is_json_lines() -> None:
    lines = ingest_example()
    assert [orjson.loads(line)["op"] for line in lines] == ["publish", "correct", "shield"]
    assert len({orjson.loads(line)["id"] for line in lines}) == 1, "one entry, three events"


def test_the_ingest_example_imports_as_the_readme_says(tmp_path: Path) -> None:
    lines = ingest_example()
    entry_id = orjson.loads(lines[0])["id"]
    data = tmp_path / "data"
    with shixin_env(data):
        # Line by line, as the README tells it: published, corrected, shielded. Each file
        # repeats the lines before it, which (the README's guarantee) changes nothing.
        assert _import(tmp_path, lines[:1]) == {"lines": 1, "accepted": 1, "rejected": 0}
        entry = _get_entry(entry_id)
        assert entry.status_code == 200, entry.text
        published = entry.json()
        assert published["iname"] == "张伟" and published["performance"] == "全部未履行"
        assert published["cardNum"] == "1101051980****1238"  # never the full number
        assert published["status"] == "published"

        assert _import(tmp_path, lines[:2]) == {"lines": 2, "accepted": 1, "rejected": 0}
        corrected = _get_entry(entry_id).json()
        assert corrected["performance"] == "部分履行"
        history = [(h["op"], h["effectiveAt"], h["fields"]) for h in corrected["history"]]
        assert history == [
            ("publish", "2023-03-20T00:00:00+08:00", []),
            ("correct", "2024-05-01T10:00:00+08:00", ["performance"]),
        ]

        assert _import(tmp_path, lines) == {"lines": 3, "accepted": 1, "rejected": 0}
        assert _get_entry(entry_id).status_code == 410
        removals = _compliance()["removals"]
        assert removals["arrivedLate"] == 1 and removals["late"] == 0


def _import(folder: Path, lines: list[str]) -> dict[str, int]:
    """``shixin import example.jsonl`` on these lines; its exit code and summary."""
    path = folder / "example.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    assert main(["import", str(path)]) == 0, (folder / "example.jsonl.rejects.jsonl").read_text()
    summary = orjson.loads((folder / "example.jsonl.summary.json").read_bytes())
    return {key: summary[key] for key in ("lines", "accepted", "rejected")}


def _get_entry(entry_id: str) -> Any:
    with running(load_settings()) as site:
        return site.client.get(f"/api/v1/entries/{entry_id}")


def _compliance() -> Any:
    with running(load_settings()) as site:
        return site.client.get("/api/v1/compliance").json()


# The curl examples, against the demo


def demo_steps(data_dir: Path) -> list[list[str]]:
    """The ``shixin`` commands ``make demo`` runs before serving, from the Makefile itself."""
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    recipe = re.search(r"^demo:.*\n((?:\t.*\n)+)", makefile, re.M)
    assert recipe, "Makefile has no demo target"
    steps = []
    for command in re.findall(r"\$\(BIN\)/shixin ([^;\n]+)", recipe.group(1)):
        argv = shlex.split(command.replace("$(SHIXIN_DATA_DIR)", str(data_dir)))
        if argv[0] in ("demo-data", "import", "demo-cases"):
            steps.append(argv)
    assert [step[0] for step in steps] == ["demo-data", "import", "demo-cases"]
    return steps


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    """The portal on what ``make demo`` imports (5,000 entries, seed 1, demo tickets)."""
    data = tmp_path_factory.mktemp("demo") / "data"
    data.mkdir()
    with shixin_env(data):
        for argv in demo_steps(data):
            assert main(argv) == 0, argv
        with running(load_settings()) as site:
            yield site.client


def curl_blocks() -> list[str]:
    return [b.body for b in blocks() if b.lang in ("sh", "bash") and "curl " in b.body]


def test_the_readme_has_curl_examples() -> None:
    assert len(curl_blocks()) >= 1


@pytest.mark.parametrize("number", range(len(curl_blocks())))
def test_every_curl_example_works_against_the_demo(
    demo: TestClient, number: int, tmp_path: Path
) -> None:
    # The evidence example sends "your own" photo by name: one is put where it looks.
    for name in re.findall(r"=@([^'\s;]+)", curl_blocks()[number]):
        (tmp_path / name).write_bytes(JPEG)
    Replay(demo, tmp_path).run(curl_blocks()[number])


@dataclass
class Answer:
    status: int
    body: bytes

    def json(self) -> Any:
        return orjson.loads(self.body)


@dataclass
class Replay:
    """Runs a shell block of curl calls the way a shell would, through the test client."""

    client: TestClient
    workdir: Path
    variables: dict[str, str] = field(default_factory=dict)
    shown: dict[str, str] = field(default_factory=dict)  # README's value -> the real one
    last: Answer | None = None

    def run(self, body: str) -> None:
        claim = ""
        for statement in shell_statements(body):
            if statement.startswith("#"):
                text = statement.lstrip("#").strip()
                if claim or (text.startswith("{") and self.last is not None):
                    claim += text
                    if _is_json(claim):  # the answer the README shows is complete
                        self.check_claim(orjson.loads(claim))
                        claim = ""
                continue
            assert not claim, f"README shows an answer that is not JSON: {claim}"
            self.statement(self.substitute(statement))

    def substitute(self, statement: str) -> str:
        def value(match: re.Match[str]) -> str:
            name = match.group(1) or match.group(2)
            assert name in self.variables, f"README uses ${name} before setting it"
            return self.variables[name]

        for readme_value, real in self.shown.items():
            statement = statement.replace(readme_value, real)
        return re.sub(r"\$\{(\w+)\}|\$(\w+)", value, statement)

    def statement(self, statement: str) -> None:
        assignment = re.fullmatch(r"(\w+)=\$\((.*)\)", statement, re.S)
        if assignment:
            self.variables[assignment.group(1)] = self.pipeline(assignment.group(2)).strip()
            return
        argv = words(statement)
        assert argv[0] == "curl", f"not a curl call: {statement}"
        self.last = self.curl(argv)

    def pipeline(self, text: str) -> str:
        lexer = shlex.shlex(text.replace("\\\n", " "), posix=True, punctuation_chars="|")
        lexer.whitespace_split = True
        stages: list[list[str]] = [[]]
        for token in lexer:
            if token == "|":
                stages.append([])
            else:
                stages[-1].append(token)
        output = self.curl(stages[0]).body
        for stage in stages[1:]:
            assert stage[:2] == ["python3", "-c"], f"README pipes into {stage}"
            done = subprocess.run(
                [sys.executable, "-c", *stage[2:]], input=output, capture_output=True, check=True
            )
            output = done.stdout
        return output.decode("utf-8")

    def curl(self, argv: list[str]) -> Answer:
        request = CurlRequest.parse(argv, self.workdir)
        response = self.client.request(
            request.method,
            request.url,
            headers=request.headers,
            content=request.data,
            files=request.files or None,
        )
        answer = Answer(response.status_code, response.content)
        assert 200 <= answer.status < 300, f"{shlex.join(argv)}\n→ {answer.status} {response.text}"
        return answer

    def check_claim(self, claimed: Any) -> None:
        assert self.last is not None
        assert_like(claimed, self.last.json(), self.shown)


@dataclass
class CurlRequest:
    method: str
    url: str
    headers: dict[str, str]
    data: bytes | None
    files: list[tuple[str, tuple[str | None, bytes, str]]]

    @classmethod
    def parse(cls, argv: list[str], workdir: Path) -> CurlRequest:
        """The options the README's curl calls use; any other one fails the test, so that
        a new example is replayed faithfully or not at all."""
        assert argv[0] == "curl"
        method, url, data = "", "", None
        headers: dict[str, str] = {}
        files: list[tuple[str, tuple[str | None, bytes, str]]] = []
        args = iter(argv[1:])
        for arg in args:
            if arg in ("-X", "--request"):
                method = next(args)
            elif arg in ("-H", "--header"):
                name, _, value = next(args).partition(":")
                headers[name.strip()] = value.strip()
            elif arg in ("-d", "--data", "--data-raw"):
                data = next(args).encode("utf-8")
            elif arg in ("-F", "--form"):
                files.append(_form_part(next(args), workdir))
            elif arg in ("-s", "--silent"):
                pass
            else:
                assert not arg.startswith("-"), f"curl option {arg} not replayed by this test"
                url = arg
        assert url.startswith("http://127.0.0.1:8000/"), f"README curl to {url!r}"
        return cls(method or ("POST" if data or files else "GET"), url, headers, data, files)


def _form_part(spec: str, workdir: Path) -> tuple[str, tuple[str | None, bytes, str]]:
    """``name=@file`` (a file, typed by its name as curl does) or ``name=text;type=…``."""
    name, _, value = spec.partition("=")
    if value.startswith("@"):
        path = workdir / value[1:]
        kind = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        return name, (path.name, path.read_bytes(), kind)
    text, _, kind = value.partition(";type=")
    return name, (None, text.encode("utf-8"), kind or "text/plain")


def _is_json(text: str) -> bool:
    try:
        orjson.loads(text)
    except orjson.JSONDecodeError:
        return False
    return True


def assert_like(claimed: Any, actual: Any, shown: dict[str, str], where: str = "") -> None:
    """The answer has the README's shape: the same keys, the same fixed values. Values
    with digits (numbers, codes, dates) differ per run: they keep their form, and the
    README's value is remembered so a later call that uses it gets the real one."""
    if isinstance(claimed, dict):
        assert isinstance(actual, dict) and set(actual) == set(claimed), (where, actual)
        for key, value in claimed.items():
            assert_like(value, actual[key], shown, f"{where}.{key}")
    elif isinstance(claimed, str) and re.search(r"\d", claimed):
        assert isinstance(actual, str), (where, actual)
        assert _form(actual) == _form(claimed), (where, claimed, actual)
        shown[claimed] = actual
    else:
        assert actual == claimed, (where, claimed, actual)


def _form(text: str) -> str:
    return re.sub(r"[0-9A-Z]", "x", text)


# Shell commands


def shixin_statements() -> list[str]:
    """Every ``shixin …`` command in the README's shell blocks, outside the synopsis."""
    out = []
    for block in blocks():
        if block.lang not in ("sh", "bash") or block.section == "The command line":
            continue
        for statement in shell_statements(block.body):
            argv = words(statement) if not statement.startswith("#") else []
            while argv and re.fullmatch(r"[A-Z_]+=.*", argv[0]):  # VAR=value shixin …
                argv = argv[1:]
            if argv and argv[0] in ("shixin", ".venv/bin/shixin"):
                out.append(shlex.join(argv[1:]))
    return out


def test_the_readme_shows_shixin_commands() -> None:
    assert len(shixin_statements()) > 10 and len(inline_shixin_commands()) > 10


@pytest.mark.parametrize("command", shixin_statements())
def test_every_shixin_command_in_a_shell_block_parses(command: str) -> None:
    """Complete commands: argparse takes them as they stand (values, choices, required)."""
    try:
        _parser().parse_args(shlex.split(command))
    except SystemExit as exc:
        pytest.fail(f"'shixin {command}' is refused by the command line (exit {exc.code})")


@pytest.mark.parametrize("command", inline_shixin_commands())
def test_every_shixin_command_in_the_text_exists(command: str) -> None:
    """In running text commands come with placeholders (``--workers N``): the command and
    each option it shows must exist."""
    check_command_words(_parser(), command)


def test_make_targets_in_the_readme_exist() -> None:
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    targets = set(re.findall(r"^([\w-]+):", makefile, re.M))
    named = set(re.findall(r"`make (\w+)|^make (\w+)", README, re.M))
    missing = sorted({a or b for a, b in named} - targets)
    assert missing == [], f"README names make targets the Makefile lacks: {missing}"
