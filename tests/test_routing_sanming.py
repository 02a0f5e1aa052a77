"""The second jurisdiction's routing file, casework/data/routing-sanming.yaml: 三明市 after
seed 001 (三明市贯彻落实……的实施细则). It loads and validates like any administrator's file,
names every unit seed 001's measure clauses name, and CaseService routes by it
(SQLite and PostgreSQL)."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from support import ingest, make_settings, person
from test_casework_support import Casework, cw_fixture  # noqa: F401

from casework.routing import DEFAULT_FILE, Routing, load_routing
from casework.service import CaseService
from shixin.cli import main

SANMING = DEFAULT_FILE.with_name("routing-sanming.yaml")

# Seed 001 二、"联合惩戒体系": its twelve areas, in its order and words.
SEED_001_AREAS = [
    "从事特定行业或项目限制",
    "政府支持或补贴限制",
    "任职资格限制",
    "准入资格限制",
    "荣誉和授信限制",
    "特殊市场交易限制",
    "限制高消费及有关消费",
    "协助查询、控制及出境限制",
    "协助查询、控制等特定事项",
    "加强日常监管检查",
    "加大刑事惩戒力度",
    "鼓励其他方面限制",
]

# Every measure clause of seed 001 二 and the units it names, in its order, read off the seed
# by hand (a leading 市 applies to the whole list: "市财政局、工商局" is 市财政局, 市工商局).
# Empty: the clause names no unit and the executing court receives the report.
SEED_001_MEASURES = {
    "(一)1": ["市财政局", "市工商局", "市金融办", "人行三明中心支行", "三明银监局"],
    "(一)2": ["市发改委", "人行三明中心支行"],
    "(一)3": ["外汇管理局三明中心支局"],
    "(一)4": ["市财政局", "市国资委"],
    "(一)5": ["市民政局", "社会组织业务主管单位"],
    "(一)6": ["市发改委", "市财政局"],
    "(一)7": [
        "市经信委",
        "市财政局",
        "市住建局",
        "市交通局",
        "市水利局",
        "市商务局",
        "市行政服务中心",
    ],
    "(一)8": ["市委台办", "市公安局", "市商务局"],
    "(二)1": ["市发改委", "市民政局", "市财政局", "市人社局", "市国资委"],
    "(二)2": ["市发改委", "市科技局", "市财政局", "市商务局", "市地税局", "市国税局", "三明海关"],
    "(三)1": ["市委组织部", "市财政局", "市国资委"],
    "(三)2": ["市委编办"],
    "(三)3": ["市财政局", "市工商局", "人行三明中心支行", "三明银监局"],
    "(三)4": ["市民政局", "社会组织业务主管单位"],
    "(三)5": ["市委组织部", "市人社局"],  # 人社局（公务员局）
    "(三)6": ["市委组织部"],
    "(三)7": ["市委组织部"],  # names no unit: 组织推荐的候选人 (see its basis)
    "(三)8": ["三明军分区政治部"],
    "(四)1": ["三明海关"],
    "(四)2": [
        "市经信委",
        "市工商局",
        "市质监局",
        "市安监局",
        "市食品药品监管局",
        "市公安消防支队",
        "市烟草专卖局",
    ],
    "(四)3": ["市国土局", "市住建局", "市公安消防支队"],
    "(五)1": ["市文明办", "市民政局", "市妇联", "综治办"],
    "(五)2": ["市司法局"],
    "(五)3": ["人行三明中心支行", "各商业银行"],
    "(六)1": ["市国土局", "市住建局", "市财政局", "市国资委"],
    "(六)2": ["市发改委", "市国土局", "市林业局"],
    "(六)3": ["市发改委", "市农业局", "市林业局"],
    "(六)4": ["市发改委", "市国土局", "市农业局", "市水利局"],
    "(七)1": [],
    "(七)2": ["市公安局", "市商务局", "市文广新局", "市旅游局"],
    "(七)3": ["市旅游局"],
    "(七)4": ["市教育局"],
    "(七)5": ["市公安局", "市国土局", "市住建局", "市交通局", "三明地方海事局"],
    "(八)": ["市公安局"],
    "(九)1": ["人行三明中心支行", "三明银监局", "各商业银行", "各保险公司"],
    "(九)2": ["市民政局"],
    "(九)3": ["市住房公积金管理中心"],
    "(十)": ["各市场监管、行业主管部门"],
    "(十一)": ["市公安局", "三明市人民检察院", "三明市中级人民法院"],  # 公安、检察机关和人民法院
    "(十二)": [],
}


@pytest.fixture(name="routing", scope="module")
def sanming_routing() -> Routing:
    return load_routing(SANMING)


def _clause(basis: str) -> str:
    """The clause a basis cites: 三明市《实施细则》二、(一)8 → (一)8; …二、(十一)：… → (十一)."""
    assert basis.startswith("三明市《实施细则》二、"), basis
    rest = basis.removeprefix("三明市《实施细则》二、")
    end = rest.index(")") + 1
    while end < len(rest) and rest[end].isdigit():
        end += 1
    return rest[:end]


def test_the_file_loads_and_passes_validation(routing: Routing) -> None:
    assert (routing.jurisdiction, routing.version) == ("三明市", "sm-2026.1")
    assert list(routing.areas.values()) == SEED_001_AREAS
    assert {c.area for c in routing.reports()} == set(routing.areas)
    national = load_routing()
    assert [c.code for c in routing.complaints()] == [c.code for c in national.complaints()]
    source = yaml.safe_load(SANMING.read_text(encoding="utf-8"))["source"]
    assert source.startswith("《三明市贯彻落实〈中共福建省委办公厅福建省人民政府办公厅")
    assert "的实施细则》（以下简称三明市《实施细则》" in source and "2017年5月22日" in source


def test_every_measure_clause_of_seed_001_is_a_report_category(routing: Routing) -> None:
    by_clause = {_clause(c.basis): c for c in routing.reports()}
    assert list(by_clause) == list(SEED_001_MEASURES)  # each clause once, in the seed's order
    for clause, names in SEED_001_MEASURES.items():
        category = by_clause[clause]
        assert [routing.units[u].name for u in category.units] == names, clause
        if not names:
            assert category.route == "entry_court", clause


def test_every_unit_named_in_the_measure_clauses_appears(routing: Routing) -> None:
    named = {name for names in SEED_001_MEASURES.values() for name in names}
    in_file = {u.name for u in routing.units.values()}
    # besides them the file lists only the supervisor and the court above 市法院
    assert in_file - named == {"全市执行联动机制工作领导小组", "福建省高级人民法院"}
    assert named <= in_file


@pytest.mark.parametrize(
    ("code", "units"),
    [
        ("industry.taiwan-trade", ["市委台办", "市公安局", "市商务局"]),  # 二、(一)8
        ("posts.enlistment", ["三明军分区政治部"]),  # 二、(三)8
        ("consumption.school", ["市教育局"]),  # 二、(七)4
        ("consumption.hotel", ["市公安局", "市商务局", "市文广新局", "市旅游局"]),  # 二、(七)2
        ("assist-special.housing-fund", ["市住房公积金管理中心"]),  # 二、(九)3
    ],
)
def test_spot_checks_against_the_seed(routing: Routing, code: str, units: list[str]) -> None:
    category = routing.category(code)
    assert category is not None
    assert [routing.units[u].name for u in category.units] == units


def test_shared_measures_keep_the_national_codes(routing: Routing) -> None:
    """So statistics compare across jurisdictions: same measure, same code and area."""
    national = load_routing()
    for code in ("industry.procurement", "posts.soe-executive", "consumption.hotel"):
        assert routing.category(code).area == national.category(code).area, code
    shared = {c.code for c in routing.reports()} & {c.code for c in national.reports()}
    assert len(shared) >= 20
    assert set(national.areas) - set(routing.areas) == {"defence"}  # seed 001 has no such area


def test_deadlines_and_escalation_follow_seed_001(routing: Routing) -> None:
    wrongful = routing.category("wrongful-listing").deadlines
    assert (str(wrongful.reply), str(wrongful.correct)) == ("15 days", "3 working days")
    hotel = routing.category("consumption.hotel").deadlines
    assert (str(hotel.accept), str(hotel.reply)) == ("3 working days", "20 working days")
    assert routing.supervisor_of("taiwan-office") == "enforcement-group"
    assert routing.units["enforcement-group"].name == "全市执行联动机制工作领导小组"
    assert routing.supervisor_of("court-sanming") == "court-fujian"
    assert routing.supervisor_of("enforcement-group") is None


# --- Filed through CaseService ------------------------------------------------------------


@pytest.mark.parametrize(
    ("category", "extra", "unit", "name"),
    [
        ("industry.taiwan-trade", {}, "taiwan-office", "市委台办"),
        ("industry.taiwan-trade", {"unit": "commerce"}, "commerce", "市商务局"),  # picked
        ("posts.enlistment", {}, "military-political", "三明军分区政治部"),
        ("consumption.hotel", {}, "police", "市公安局"),  # first named in 二、(七)2
        ("criminal.refusal", {}, "police", "市公安局"),  # lead: the police investigate
        ("consumption.flights-trains", {}, "court:北京市朝阳区人民法院", "北京市朝阳区人民法院"),
    ],
)
def test_a_report_goes_to_the_unit_seed_001_names(
    cw: Casework, category: str, extra: dict, unit: str, name: str
) -> None:
    receipt = cw.report(category, entry_id="p1", debtor_name=None, **extra)
    assert (receipt.unit_code, receipt.unit_name) == (unit, name)


@pytest.mark.parametrize(
    ("category", "extra", "unit"),
    [
        ("measure-objection", {"measure": "industry.taiwan-trade"}, "taiwan-office"),
        ("wrongful-listing", {"entry_id": "sm1"}, "court-sanming"),  # a court the file lists
        ("wrongful-listing", {"entry_id": None, "debtor_name": "赵六"}, "court-sanming"),
    ],
)
def test_a_complaint_goes_to_the_right_sanming_unit(
    cw: Casework, category: str, extra: dict, unit: str
) -> None:
    ingest(cw.lists, person("sm1", iname="陈明", courtName="三明市中级人民法院"))
    assert cw.complaint(category, **extra).unit_code == unit


def test_an_overdue_report_escalates_to_the_leading_group(cw: Casework) -> None:
    receipt = cw.report("industry.taiwan-trade")
    cw.clock.set("2026-11-27T00:00:01")  # three working days from Monday 11-23 ran out
    assert cw.cases.sweep_overdue() == [(receipt.number, "taiwan-office", "enforcement-group")]
    public = cw.cases.track(receipt.number, receipt.access_code)
    assert public.timeline[-1].message == (
        "市委台办超过受理期限（2026-11-26），已报全市执行联动机制工作领导小组督办"
    )


def test_shixin_routing_file_selects_it(tmp_path: Path, database_url: str) -> None:
    settings = make_settings(tmp_path, database_url, SHIXIN_ROUTING_FILE=str(SANMING))
    service = CaseService.from_settings(settings)
    try:
        assert (service.routing.jurisdiction, service.routing.version) == ("三明市", "sm-2026.1")
    finally:
        service.store.dispose()


def test_routing_command_prints_a_clean_summary(capsys) -> None:  # type: ignore[no-untyped-def]
    assert main(["routing", str(SANMING)]) == 0
    out, err = capsys.readouterr()
    assert out == f"{SANMING}：版本 sm-2026.1，50 个单位，40 类举报，5 类投诉\n"
    assert err == ""
