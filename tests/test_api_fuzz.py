"""Schemathesis over the OpenAPI document: every operation, with generated valid and
invalid input, must never answer 5xx and must answer what the document says (status codes,
content types, response schemas).

Bounded for CI (about 25 examples per operation, derandomized so a failure reproduces), rate
limits off, on a copy of demo data, with a court's ingest token so the ingest operation is
reached beyond its 401, and an API key so the screenings are too. Run it alone with
``pytest tests/test_api_fuzz.py``."""

from __future__ import annotations

import re
import tempfile
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from schemathesis import checks as st_checks
from sqlalchemy import select
from starlette.exceptions import StarletteDeprecationWarning
from support import make_settings

from core.tables import outbox
from portal import openapi
from portal.app import create_app
from search_index.demo import generate_events
from search_index.tokens import create_token

with warnings.catch_warnings():
    warnings.filterwarnings("ignore", "Using `httpx`", StarletteDeprecationWarning)
    from starlette.testclient import TestClient

pytestmark = [
    pytest.mark.slow,
    # schemathesis's own negative-case strategies draw from `random` now and then, which
    # Hypothesis warns about: a warning on the tool's code, not on ours.
    pytest.mark.filterwarnings(
        "ignore:Do not use the `random` module inside strategies"
        ":hypothesis.errors.HypothesisDeprecationWarning"
    ),
]

EXAMPLES = 25
DEMO_ENTRIES = 300
# What a user of the API would notice: a server error, an answer the document does not
# describe, or input the document forbids being taken anyway (the code enforces what the
# schemas say).
CHECKS = [
    st_checks.not_a_server_error,
    st_checks.status_code_conformance,
    st_checks.content_type_conformance,
    st_checks.response_schema_conformance,
    st_checks.response_headers_conformance,
    st_checks.negative_data_rejection,
]


@pytest.fixture(scope="module")
def api_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    tmp = tmp_path_factory.mktemp("fuzz")
    config = make_settings(
        tmp,
        f"sqlite:///{tmp}/shixin.sqlite3",
        SHIXIN_RATE_LIMIT_ENABLED="0",
        SHIXIN_DEMO="1",
    )
    app = create_app(config)
    with TestClient(app):  # runs the lifespan: migrations, the index
        service = app.state.service
        lines = list(enumerate(generate_events(DEMO_ENTRIES, seed=7), start=1))
        report = service.ingest(lines, source="demo")
        assert not report.rejected
        app.state.fuzz_token = create_token(service.store, "北京市高级人民法院信息中心", None)[0]
        app.state.fuzz_key = _api_key(app)
        yield app


def _api_key(app: Any) -> str:
    """An API key issued through its confirmation link, read from the outbox as mailed."""
    keys = app.state.api_keys
    keys.request("模糊测试", "fuzz@example.org", "检查接口")
    with app.state.service.store.read() as conn:
        (body,) = conn.execute(select(outbox.c.body)).scalars()
    (token,) = re.findall(r"/api/keys/confirm/([A-Za-z0-9_-]+)", body)
    return keys.issue(token).key


def _operations() -> list[tuple[str, str]]:
    """(method, path) of every operation in the document, read at collection time."""
    tmp = Path(tempfile.mkdtemp(prefix="shixin-fuzz-doc-"))
    doc = openapi.build_document(make_settings(tmp, f"sqlite:///{tmp}/doc.sqlite3"))
    return [
        (method.upper(), path)
        for path, item in doc["paths"].items()
        for method in item
        if method in {"get", "post", "put", "patch", "delete"}
    ]


def _takes_input(operation: Any) -> bool:
    definition = operation.definition.raw
    return bool(definition.get("parameters") or definition.get("requestBody"))


@pytest.fixture(scope="module")
def api_schema(api_app: Any) -> Any:
    return schemathesis.openapi.from_asgi("/api/v1/openapi.json", api_app)


# Requests the document allows, and requests it forbids (a field missing, another type, a
# value out of range): the second kind must be refused with a 4xx, never taken or a 500.
MODES = [GenerationMode.POSITIVE, GenerationMode.NEGATIVE]


@pytest.mark.parametrize("mode", MODES, ids=str)
@pytest.mark.parametrize(("method", "path"), _operations())
def test_no_operation_answers_5xx_or_off_the_document(
    method: str, path: str, mode: GenerationMode, api_app: Any, api_schema: Any
) -> None:
    operation = api_schema[path][method]
    if mode is GenerationMode.NEGATIVE and not _takes_input(operation):
        pytest.skip("no parameters and no body: nothing a request could get wrong")
    headers = {
        "Authorization": f"Bearer {api_app.state.fuzz_token}",
        "X-API-Key": api_app.state.fuzz_key,  # the screenings' key (the ingest's is the token)
    }

    @given(case=operation.as_strategy(mode))
    @settings(
        max_examples=EXAMPLES,
        derandomize=True,
        deadline=None,
        suppress_health_check=list(HealthCheck),
        database=None,
    )
    def probe(case: Any) -> None:
        case.call_and_validate(headers=headers, checks=CHECKS)

    probe()
