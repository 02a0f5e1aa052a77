"""Reading README.md the way a newcomer does: its sections, code blocks and the commands in
them, and the ``shixin`` command tree they are checked against (tests/test_docs.py,
tests/test_readme_examples.py)."""

from __future__ import annotations

import argparse
import re
import shlex
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")

_FENCE = re.compile(r"^```(\w*)\n(.*?)^```", re.MULTILINE | re.DOTALL)
# `shixin …` in running text; a span may wrap onto the next line.
_INLINE_SHIXIN = re.compile(r"`((?:\.venv/bin/)?shixin [^`]+)`")


@dataclass(frozen=True)
class Block:
    lang: str
    body: str
    section: str  # the "## " heading it sits under


def section(title: str, text: str = README) -> str:
    """The text under the ``## title`` heading, up to the next ``## `` heading."""
    match = re.search(rf"^## {re.escape(title)}\n(.*?)(?=^## |\Z)", text, re.M | re.S)
    assert match, f"README has no section '## {title}'"
    return match.group(1)


def blocks(text: str = README) -> list[Block]:
    out: list[Block] = []
    for match in _FENCE.finditer(text):
        headings = re.findall(r"^## (.+)$", text[: match.start()], re.M)
        out.append(Block(match.group(1), match.group(2), headings[-1] if headings else ""))
    return out


def inline_shixin_commands(text: str = README) -> list[str]:
    """``shixin …`` written in running text (outside code blocks)."""
    prose = _FENCE.sub("", text)
    return [" ".join(m.group(1).split()) for m in _INLINE_SHIXIN.finditer(prose)]


def shell_statements(body: str) -> list[str]:
    """The statements of a shell block: continued lines joined, comments kept as their own
    statements (they hold the answers the README shows), blank lines dropped."""
    out: list[str] = []
    pending = ""
    for line in body.splitlines():
        if not pending and (not line.strip() or line.lstrip().startswith("#")):
            if line.strip():
                out.append(line.strip())
            continue
        pending += line + "\n"
        if pending.endswith("\\\n") or not _complete(pending):
            continue
        out.append(pending.strip())
        pending = ""
    assert not pending, f"unfinished shell statement in README: {pending!r}"
    return out


def _complete(text: str) -> bool:
    try:
        shlex.split(text, comments=True)
    except ValueError:  # an open quote: the statement goes on
        return False
    return text.count("(") <= text.count(")")  # and so does an open "$(" … ")"


def words(statement: str) -> list[str]:
    """A command's words as the shell sees them (line continuations removed, comments cut)."""
    return shlex.split(statement.replace("\\\n", " "), comments=True)


# The command tree


def subparsers(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return dict(action.choices)
    return {}


def command_paths(parser: argparse.ArgumentParser) -> set[tuple[str, ...]]:
    """Every command and subcommand: ``("serve",)``, ``("token", "add")``, …"""
    paths: set[tuple[str, ...]] = set()
    for name, sub in subparsers(parser).items():
        nested = command_paths(sub)
        paths |= {(name, *path) for path in nested} or {(name,)}
    return paths


def options(parser: argparse.ArgumentParser) -> set[str]:
    return {flag for action in parser._actions for flag in action.option_strings}


def command_of(
    parser: argparse.ArgumentParser, tokens: list[str]
) -> tuple[tuple[str, ...], set[str]]:
    """The command path named by ``tokens`` (after ``shixin``) and every flag that may follow
    it (the command's own and its parents'). Fails on a command that does not exist."""
    path: list[str] = []
    flags = options(parser)
    node = parser
    for token in tokens:
        children = subparsers(node)
        if not children:
            break
        if token.startswith("-"):
            continue
        assert token in children, f"no command 'shixin {' '.join([*path, token])}'"
        path.append(token)
        node = children[token]
        flags |= options(node)
    assert not subparsers(node), f"'shixin {' '.join(path)}' needs a subcommand"
    return tuple(path), flags


_FLAG = re.compile(r"(?<![\w-])(--?[A-Za-z][\w-]*)")


def check_command_words(parser: argparse.ArgumentParser, text: str) -> tuple[str, ...]:
    """Checks a command as the README writes it, placeholders and ``[optional]`` parts
    included: the command exists and every flag it shows is one of its options."""
    tokens = text.replace("[", " ").replace("]", " ").replace("(", " ").replace(")", " ")
    words_ = tokens.split()
    if words_ and words_[0].endswith("shixin"):
        words_ = words_[1:]
    path, flags = command_of(parser, words_)
    unknown = sorted(set(_FLAG.findall(text)) - flags)
    assert unknown == [], f"'shixin {' '.join(path)}' has no option {unknown} (README: {text!r})"
    return path


def synopsis_paths(parser: argparse.ArgumentParser, block: str) -> set[tuple[str, ...]]:
    """The commands a synopsis block names, one line each, alternatives split by ``|``:
    ``shixin sync | reconcile`` and ``shixin token add … | token list`` alike."""
    found: set[tuple[str, ...]] = set()
    top = subparsers(parser)
    for line in block.splitlines():
        if not line.startswith("shixin "):
            continue
        previous: tuple[str, ...] = ()
        for alternative in _top_level_split(line.removeprefix("shixin ")):
            first = alternative.split()[0]
            if first not in top and previous:  # "token add … | list": list is token's
                alternative = f"{previous[0]} {alternative}"
            previous = check_command_words(parser, alternative)
            found.add(previous)
    return found


def _top_level_split(text: str) -> list[str]:
    """Splits on ``|`` outside brackets: ``(--court C | --all-courts)`` and
    ``[--format auto|jsonl|csv]`` stay whole."""
    parts, depth, current = [], 0, ""
    for char in text:
        if char in "[(":
            depth += 1
        elif char in "])":
            depth -= 1
        if char == "|" and depth == 0:
            parts.append(current.strip())
            current = ""
        else:
            current += char
    parts.append(current.strip())
    return [part for part in parts if part]
