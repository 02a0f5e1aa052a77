"""The layout stays true: imports point down only (README "Layout").

shixin (the commands and the demo)      on top: nothing imports it
portal, bot (the interfaces)            over the domains
search_index, casework, watches,        the domains, over the ground; casework, watches and
screening, chat_state, api_keys,        screening may read the list; webhooks read the
webhooks                                feed and the keys, and send through casework's round
core (the ground)                       imports no package of ours
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
OURS = (
    "core",
    "search_index",
    "casework",
    "watches",
    "screening",
    "chat_state",
    "api_keys",
    "webhooks",
    "ingest_jobs",
    "portal",
    "bot",
    "shixin",
)
# What each package may import of ours, besides itself.
ALLOWED = {
    "core": set(),
    "search_index": {"core"},
    "casework": {"core", "search_index"},
    "watches": {"core", "search_index"},  # never casework: the outbox write is the ground's
    "screening": {"core", "search_index"},
    "chat_state": {"core"},  # the bot's memory: knows nothing of the list
    "api_keys": {"core"},  # who may use the API: knows nothing of the list
    # the feed's events, pushed to a key's endpoints with the outbox's delivery round
    "webhooks": {"core", "search_index", "api_keys", "casework"},
    "ingest_jobs": {"core", "search_index"},  # long batches, run by the list's own ingest
    "portal": {
        "core",
        "search_index",
        "casework",
        "watches",
        "screening",
        "api_keys",
        "webhooks",
        "ingest_jobs",
    },
    "bot": {"core", "search_index", "casework", "watches", "screening", "chat_state"},
    "shixin": {
        "core",
        "search_index",
        "casework",
        "watches",
        "screening",
        "chat_state",
        "api_keys",
        "webhooks",
        "ingest_jobs",
        "portal",
        "bot",
    },
}
# Modules that may import one more package than their own may, and why. Start-up wiring only.
EXTRA = {
    # webhook mode: the portal's lifespan builds, starts and stops the bot's application
    "portal/telegram_webhook.py": {"bot"},
}


def _imported_packages(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return {name.split(".")[0] for name in names} & set(OURS)


def _modules(package: str) -> list[Path]:
    return sorted((ROOT / package).rglob("*.py"))


@pytest.mark.parametrize("package", OURS)
def test_imports_point_down_only(package: str) -> None:
    wrong = {
        str(path.relative_to(ROOT)): sorted(bad)
        for path in _modules(package)
        if (
            bad := _imported_packages(path)
            - ALLOWED[package]
            - {package}
            - EXTRA.get(str(path.relative_to(ROOT)), set())
        )
    }
    assert wrong == {}, f"{package} may import only {sorted(ALLOWED[package])}"


def test_the_layering_test_sees_every_package() -> None:
    packages = {p.name for p in ROOT.iterdir() if (p / "__init__.py").exists()}
    assert packages - {"tests", "benchmarks"} == set(OURS)


def test_casework_reads_the_list_through_one_named_function_only() -> None:
    imported = set()
    for path in _modules("casework"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("search_index"):
                imported.update(f"{node.module}.{alias.name}" for alias in node.names)
            elif isinstance(node, ast.Import):
                assert not any(a.name.startswith("search_index") for a in node.names), path
    assert imported == {"search_index.entries.ever_public_entry"}


def test_webhooks_take_only_the_outbox_delivery_round_from_casework() -> None:
    # They send through the one delivery round every outbox channel uses; nothing of the
    # complaints and reports themselves.
    imported = set()
    for path in _modules("webhooks"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module == "casework":
                imported.update(f"casework.{alias.name}" for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("casework"):
                imported.add(node.module)
            elif isinstance(node, ast.Import):
                assert not any(a.name.startswith("casework") for a in node.names), path
    assert imported <= {"casework.delivery", "casework.outbox"}


# The screening jobs keep their own tables (the uploaded rows, their results): only these
# modules reach the store, and only for those tables.
SCREENING_STORE = {
    "screening/tables.py": {"core.tables", "sqlalchemy"},
    "screening/jobs.py": {"core.db", "screening.tables", "sqlalchemy"},
}


def test_screening_reads_the_list_through_the_service_and_never_the_store() -> None:
    # It matches through ListService.search, so that only what the search serves (public
    # entries) can ever be matched; the list's tables are never read directly.
    wrong = {
        str(path.relative_to(ROOT)): sorted(bad)
        for path in _modules("screening")
        if (bad := _store_imports(path) - SCREENING_STORE.get(str(path.relative_to(ROOT)), set()))
    }
    assert wrong == {}


# The background ingest jobs keep their own tables (the kept batches, their answers); the
# list's tables they reach only through ListService.ingest, like any other batch.
INGEST_JOBS_STORE = {
    "ingest_jobs/tables.py": {"core.tables", "sqlalchemy"},
    "ingest_jobs/service.py": {"core.db", "ingest_jobs.tables", "sqlalchemy"},
}


def test_ingest_jobs_write_the_list_through_the_service_and_never_its_tables() -> None:
    wrong = {
        name: sorted(bad)
        for path in _modules("ingest_jobs")
        if (name := str(path.relative_to(ROOT)))
        and (bad := _store_imports(path) - INGEST_JOBS_STORE.get(name, set()))
    }
    assert wrong == {}


# The interfaces reach data through domain objects only (CaseService, ListService, the
# desks of casework). What may still import the store, and why: start-up wiring that hands
# the store to the domain objects it creates, never to a handler.
STORE_MODULES = ("sqlalchemy", "core.db", "core.tables")
WIRING = {
    # build_application creates ChatLinks and the TelegramSender from the store it is given
    "bot/app.py": {"core.db"},
    # `shixin bot`: runs the application, or a delivery pass, over the store it is given
    "bot/run.py": {"core.db"},
    # the outbox sender: a background delivery round (like casework/mail.py), not a handler
    "bot/sender.py": {"core.db"},
    # webhook mode: hands the portal's store to build_application at start-up
    "portal/telegram_webhook.py": {"core.db"},
}


def _store_imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            modules = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            modules = [node.module]
        else:
            continue
        for module in modules:
            if module.endswith(".tables") or any(
                module == m or module.startswith(m + ".") for m in STORE_MODULES
            ):
                names.add(module)
    return names


@pytest.mark.parametrize("package", ["portal", "bot"])
def test_interfaces_import_neither_sqlalchemy_nor_the_store_nor_tables(package: str) -> None:
    wrong = {
        name: sorted(bad)
        for path in _modules(package)
        if (name := str(path.relative_to(ROOT)))
        and (bad := _store_imports(path) - WIRING.get(name, set()))
    }
    assert wrong == {}, "views and handlers reach data through domain objects only"


def test_the_store_wiring_list_names_real_imports() -> None:
    for name, allowed in WIRING.items():
        assert allowed <= _store_imports(ROOT / name), f"{name} no longer needs its exception"


def test_interfaces_read_no_store_attribute_outside_the_wiring() -> None:
    """Nor do they take ``.store`` off a domain object to hand it on."""
    wiring = {
        "portal/app.py",  # the lifespan creates the services and loops over one store
        "bot/sender.py",  # its own store, given at start-up (see WIRING)
    }
    reads = {
        str(path.relative_to(ROOT))
        for package in ("portal", "bot")
        for path in _modules(package)
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
        if isinstance(node, ast.Attribute) and node.attr == "store"
    }
    assert reads <= wiring, sorted(reads - wiring)
