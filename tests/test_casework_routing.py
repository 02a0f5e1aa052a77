"""The routing file: the packaged default follows seed 003, broken files fail at load with
an error naming the entry, and SHIXIN_ROUTING_FILE replaces the default."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from support import make_settings

from casework.deadlines import Period
from casework.routing import DEFAULT_FILE, RoutingError, load_routing
from casework.service import CaseService
from shixin.cli import main

TWELVE_AREAS = [
    "从事特定行业或项目限制",
    "政府支持或补贴限制",
    "任职资格限制",
    "准入资格限制",
    "荣誉和授信限制",
    "特殊市场交易限制",
    "限制高消费及有关消费",
    "协助查询和控制",
    "加强日常监管检查",
    "加大刑事惩戒力度",
    "履行国防义务",
    "鼓励其他方面限制",
]


def test_default_file_covers_the_twelve_areas_and_five_complaint_types() -> None:
    routing = load_routing()
    assert list(routing.areas.values()) == TWELVE_AREAS  # seed 000 二、(一)
    assert {c.area for c in routing.reports()} == set(routing.areas)
    assert [c.code for c in routing.complaints()] == [
        "wrongful-listing",
        "inaccurate-info",
        "should-be-removed",
        "measure-objection",
        "credit-repair",
    ]
    hotel = routing.category("consumption.hotel")
    assert [routing.units[u].name for u in hotel.units] == [
        "旅游局",
        "商务局",
        "公安市北分局",
        "综合行政执法局",  # seed 003 二、(六)1
    ]
    wrongful = routing.category("wrongful-listing").deadlines
    assert (str(wrongful.reply), str(wrongful.correct)) == ("3 days", "3 working days")
    assert routing.supervisor_of("tourism") == "credit-group"
    assert routing.supervisor_of("court-shibei") == "court-qingdao"
    assert routing.supervisor_of("credit-group") is None


def test_every_report_names_where_it_comes_from() -> None:
    # By the document's title (the source field spells it out), never an internal number.
    for category in load_routing().reports():
        assert category.basis.startswith("市北区《意见》"), category.code
    source = yaml.safe_load(DEFAULT_FILE.read_text(encoding="utf-8"))["source"]
    assert source.startswith(
        "青岛市市北区人民政府办公室《关于加快推进失信被执行人信用监督、警示和惩戒机制建设的意见》"
    )
    assert "以下简称市北区《意见》" in source


def _write(tmp_path: Path, data: object) -> Path:
    path = tmp_path / "routing.yaml"
    path.write_text(
        data if isinstance(data, str) else yaml.safe_dump(data, allow_unicode=True),
        encoding="utf-8",
    )
    return path


def _default() -> dict:
    return yaml.safe_load(DEFAULT_FILE.read_text(encoding="utf-8"))


def _drop_version(d: dict) -> None:
    del d["version"]


def _unknown_unit(d: dict) -> None:
    d["reports"][0]["units"] = ["finance-office", "tourisn"]


def _bad_period(d: dict) -> None:
    d["complaints"][0]["deadlines"]["reply"] = "3 workdays"


def _duplicate(d: dict) -> None:
    d["reports"][1]["code"] = d["reports"][0]["code"]


def _typo_key(d: dict) -> None:
    d["reports"][2]["unit"] = d["reports"][2].pop("units")


def _bad_supervisor(d: dict) -> None:
    d["units"][1]["supervisor"] = "nobody"


def _bad_area(d: dict) -> None:
    d["reports"][0]["area"] = "hotels"


def _lead_elsewhere(d: dict) -> None:
    d["reports"][0]["lead"] = "tourism"


def _bad_route(d: dict) -> None:
    d["complaints"][3]["route"] = "somewhere"


def _no_reports(d: dict) -> None:
    d["reports"] = []


def _bad_status(d: dict) -> None:
    d["complaints"][4]["requires_entry_status"] = ["removed"]


def _both(d: dict) -> None:
    d["reports"][0]["route"] = "entry_court"


@pytest.mark.parametrize(
    ("breaks", "message"),
    [
        (_drop_version, "version: required"),
        (_unknown_unit, "reports[0] (industry.finance-company).units: unknown unit 'tourisn'"),
        (_bad_period, "complaints[0] (wrongful-listing).deadlines.reply: '3 workdays' is not a"),
        (_duplicate, "reports[1] (industry.finance-company): code 'industry.finance-company' is"),
        (_typo_key, "reports[2]: unknown key(s) ['unit']"),
        (_bad_supervisor, "units (court-shibei).supervisor: 'nobody' is not a unit code"),
        (_bad_area, "reports[0] (industry.finance-company).area: 'hotels' is not one of"),
        (_lead_elsewhere, "reports[0] (industry.finance-company).lead: 'tourism' is not one of"),
        (_bad_route, "complaints[3] (measure-objection).route: one of"),
        (_no_reports, "reports: expected a non-empty list"),
        (_bad_status, "complaints[4] (credit-repair).requires_entry_status: unknown ['removed']"),
        (_both, "give either units or route: entry_court, not both"),
    ],
)
def test_broken_files_fail_with_an_error_naming_the_entry(
    tmp_path: Path,
    breaks,
    message: str,  # type: ignore[no-untyped-def]
) -> None:
    data = _default()
    breaks(data)
    path = _write(tmp_path, data)
    with pytest.raises(RoutingError) as err:
        load_routing(path)
    assert str(err.value).startswith(f"{path}: ")
    assert message in str(err.value)


@pytest.mark.parametrize("text", ["version: [1\n", "- just\n- a list\n", ""])
def test_unreadable_files_fail_clearly(tmp_path: Path, text: str) -> None:
    with pytest.raises(RoutingError, match=str(tmp_path)):
        load_routing(_write(tmp_path, text))
    with pytest.raises(RoutingError, match="cannot read"):
        load_routing(tmp_path / "missing.yaml")


def test_an_administrators_file_replaces_the_default(tmp_path: Path, database_url: str) -> None:
    data = _default()
    data["version"] = "local-7"
    data["reports"][0]["units"] = ["commerce"]
    path = _write(tmp_path, data)
    settings = make_settings(tmp_path, database_url, SHIXIN_ROUTING_FILE=str(path))
    assert settings.routing_file == path
    service = CaseService.from_settings(settings)
    try:
        assert service.routing.version == "local-7"
        assert service.routing.category("industry.finance-company").units == ("commerce",)
    finally:
        service.store.dispose()


def test_routing_command_checks_a_file(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    assert main(["routing", str(DEFAULT_FILE)]) == 0
    assert "版本 sb-2026.1" in capsys.readouterr().out
    data = _default()
    _unknown_unit(data)
    assert main(["routing", str(_write(tmp_path, data))]) == 2
    assert "unknown unit 'tourisn'" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("text", "days", "working", "shown"),
    [
        ("3 working days", 3, True, "3个工作日"),
        ("15 days", 15, False, "15日"),
        ("1 day", 1, False, "1日"),
    ],
)
def test_periods(text: str, days: int, working: bool, shown: str) -> None:
    period = Period.parse(text)
    assert (period.days, period.working, period.chinese()) == (days, working, shown)
    assert Period.parse(str(period)) == period


@pytest.mark.parametrize("text", ["0 days", "three days", "3 workdays", 3, None, "3 weeks"])
def test_bad_periods(text: object) -> None:
    with pytest.raises(ValueError):
        Period.parse(text)


def test_errors_in_chinese_name_the_line_and_the_field(tmp_path: Path) -> None:
    from casework.routing import chinese_error, load_routing_text

    text = DEFAULT_FILE.read_text(encoding="utf-8")
    broken = text.replace("reply: 3 days", "reply: 3 dayz", 1)
    with pytest.raises(RoutingError) as err:
        load_routing_text(broken, tmp_path / "x.yaml")
    message = chinese_error(err.value)
    line = broken.splitlines().index(next(x for x in broken.splitlines() if "3 dayz" in x)) + 1
    assert message.startswith(
        f"第 {line} 行，字段 complaints[0] (wrongful-listing).deadlines.reply"
    )
    assert "'3 dayz' 不是有效期限" in message
    with pytest.raises(RoutingError) as err:
        load_routing_text("version: 1\nunits: [\n", tmp_path / "x.yaml")
    assert chinese_error(err.value).startswith("第 3 行：不是有效的 YAML")
    data = _default()
    _typo_key(data)
    with pytest.raises(RoutingError) as err:
        load_routing_text(yaml.safe_dump(data, allow_unicode=True), tmp_path / "x.yaml")
    assert "未知的字段 ['unit']" in chinese_error(err.value)


def test_an_installed_file_wins_over_the_settings_and_the_packaged_file(
    tmp_path: Path, database_url: str
) -> None:
    from casework import routing_store

    data = _default()
    data["version"] = "env-1"
    settings = make_settings(
        tmp_path, database_url, SHIXIN_ROUTING_FILE=str(_write(tmp_path, data))
    )
    first = CaseService.from_settings(settings)
    try:
        assert first.routing.version == "env-1" and first.routing.installed is None
        assert first.refresh_routing() is False
        data["version"] = "db-1"
        text = yaml.safe_dump(data, allow_unicode=True)
        installed = routing_store.install(first.store, text, "someone", settings.routing_file)
        assert installed.installed and installed.installed.installed_by == "someone"
        assert first.refresh_routing() is True and first.routing.version == "db-1"
        second = CaseService.from_settings(settings, first.store)
        assert second.routing.version == "db-1"
        assert routing_store.text_of(first.store, second.routing) == text
        data["version"] = "env-1"  # the settings file's version, for other content
        data["jurisdiction"] = "别处"
        with pytest.raises(RoutingError, match="已用于内容不同的路由文件"):
            routing_store.install(
                first.store, yaml.safe_dump(data, allow_unicode=True), "x", settings.routing_file
            )
    finally:
        first.store.dispose()


def test_routing_install_and_history_commands(
    tmp_path: Path, database_url: str, monkeypatch, capsys
) -> None:  # type: ignore[no-untyped-def]
    settings = make_settings(tmp_path, database_url)
    monkeypatch.setenv("SHIXIN_DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("SHIXIN_DATABASE_URL", database_url)
    assert main(["routing", "--history"]) == 0
    assert "还没有安装过路由文件" in capsys.readouterr().out
    data = _default()
    data["version"] = "cli-1"
    data["reports"][0]["units"] = ["commerce"]
    assert main(["routing", str(_write(tmp_path, data)), "--install"]) == 0
    assert "版本 cli-1" in capsys.readouterr().out
    _unknown_unit(data)
    data["version"] = "cli-2"
    assert main(["routing", str(_write(tmp_path, data)), "--install"]) == 2
    err = capsys.readouterr().err
    assert "未安装" in err and "未知的单位 'tourisn'" in err and "第 " in err
    assert main(["routing", "--install"]) == 2
    capsys.readouterr()
    assert main(["routing", "--history"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 1 and "\tcli-1\tcli\t" in lines[0] and lines[0].endswith("生效中")
    service = CaseService.from_settings(settings)
    try:
        assert service.routing.version == "cli-1"
        assert service.routing.category("industry.finance-company").units == ("commerce",)
    finally:
        service.store.dispose()
    # `shixin unit add` checks unit codes against the file in force.
    assert main(["unit", "add", "commerce"]) == 0
