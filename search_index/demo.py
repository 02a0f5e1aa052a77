"""A synthetic ingest feed for demos and benchmarks, in the JSON Lines format courts push.

Every person, firm and case in it is invented. Person names come from Faker; trade names are
drawn from a character list instead of Faker's zh_CN company names, because that list holds
real firms and a list of dishonest debtors must not name them. Courts, case-number court codes
and region codes are real (GB/T 2260), so searches by court and region look the way they will
in production, and every identifier carries a valid check character.

The feed is chronological: publish lines come in publish-date order and each correction or
removal is held back until the feed reaches its effective date, which is what a replay of a
court's push history looks like.

Its dates are relative to the day it is generated (``today``, China time by default): the feed
ends the day before, so a demo made on any day has most listings live and recent removals,
never dates that have aged since the generator was written.

    python -m search_index.demo demo-data/demo.jsonl --count 100000 --seed 1
"""

from __future__ import annotations

import argparse
import heapq
import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from functools import cache, lru_cache
from itertools import accumulate
from pathlib import Path
from random import Random
from typing import Any

import opencc
import orjson
from faker import Faker

from core.progress import NO_PROGRESS, Progress
from search_index.dates import today_cst
from search_index.identifiers import (
    credit_code_check_char,
    id_check_char,
    is_valid_id_number,
    mask_id_number,
    org_code_check_char,
)

__all__ = [
    "LIVE_DAYS",
    "Court",
    "courts",
    "data_range",
    "generate_events",
    "main",
    "write_demo_file",
]

# The feed covers about eight years (as the first demos did: 2019-01-01 to 2026-11-15).
_SPAN_DAYS = 2875
# An import stamps every line as received when it runs, and /stats holds each removal against
# its legal deadline (three working days after it took effect) from that arrival. A running
# portal would have received each removal as it took effect; so that a fresh demo shows what
# that looks like, the removals of the feed's last LIVE_DAYS take effect within the last
# _LIVE_WEEKDAYS weekdays before the feed was generated (inside the deadline even if the import
# runs a day later). Removals older than that stay where they fell: applied together with
# their publication, or counted as what they are, sent past their deadline.
LIVE_DAYS = 60
_LIVE_WEEKDAYS = 2

# Shares of entries (or of persons / organizations) with a given trait.
_ORG_SHARE = 0.25
_MASKED_ID_SHARE = 0.30
_TRADITIONAL_SHARE = 0.03
_ORG_CODE_ONLY_SHARE = 0.05  # organizations known only by their pre-2015 organization code
_PARTY_TYPE_SHARE = 0.80  # lines that say partyTypeName; the rest must be inferred
_UNDISCLOSED_SHARE = 0.01
_CORRECTED_SHARE = 0.03
_REMOVED_SHARE = 0.05
_CO_DEBTOR_SHARE = 0.06  # a second debtor listed under the previous line's case number
_MALE_SHARE = 0.75
# A real list keeps growing, and a demo wants most entries live: about six in ten publish
# dates fall in the last two years, so most validUntil dates are still ahead.
_RECENT_DAYS = 730
_RECENT_SHARE = 0.62
_OLD_SHARE = 1 - _RECENT_SHARE
_LISTING_YEARS = 2  # Rules Art. 2, grounds 2-6

_REPEAT_PERSON_SHARE = 0.30  # a person the same court listed before, in another case
_REPEAT_ORG_SHARE = 0.55  # a failing firm often owes many creditors at once
_REMEMBERED_PER_COURT = 200
_MAX_AGE = 75

_NAME_POOL = 2500  # per sex
_TRADE_NAME_POOL = 3000


# Courts. Province-level division code -> (case-number abbreviation, areaName as the national
# platform shows it).
_PROVINCES: dict[str, tuple[str, str]] = {
    "11": ("京", "北京"),
    "12": ("津", "天津"),
    "13": ("冀", "河北"),
    "14": ("晋", "山西"),
    "15": ("内", "内蒙古"),
    "21": ("辽", "辽宁"),
    "22": ("吉", "吉林"),
    "23": ("黑", "黑龙江"),
    "31": ("沪", "上海"),
    "32": ("苏", "江苏"),
    "33": ("浙", "浙江"),
    "34": ("皖", "安徽"),
    "35": ("闽", "福建"),
    "36": ("赣", "江西"),
    "37": ("鲁", "山东"),
    "41": ("豫", "河南"),
    "42": ("鄂", "湖北"),
    "43": ("湘", "湖南"),
    "44": ("粤", "广东"),
    "45": ("桂", "广西"),
    "46": ("琼", "海南"),
    "50": ("渝", "重庆"),
    "51": ("川", "四川"),
    "52": ("黔", "贵州"),
    "53": ("云", "云南"),
    "54": ("藏", "西藏"),
    "61": ("陕", "陕西"),
    "62": ("甘", "甘肃"),
    "63": ("青", "青海"),
    "64": ("宁", "宁夏"),
    "65": ("新", "新疆"),
}

# (city, 4-digit division code, intermediate courts, basic courts as "name:last two digits").
# Intermediate courts: "" is one "<city>中级人民法院" under the city's code, "-" none, otherwise
# the numbered courts of a municipality with their codes. A basic court named "第一" is one of
# the numbered courts of a city without districts (东莞市第一人民法院, 粤1971).
_CITIES: tuple[tuple[str, str, str, str], ...] = (
    (
        "北京市",
        "1101",
        "第一:01 第二:02 第三:03",
        "东城区:01 西城区:02 朝阳区:05 丰台区:06 石景山区:07 海淀区:08 门头沟区:09 房山区:11 "
        "通州区:12 顺义区:13 昌平区:14 大兴区:15 怀柔区:16 平谷区:17 密云区:18 延庆区:19",
    ),
    (
        "天津市",
        "1201",
        "第一:01 第二:02 第三:03",
        "和平区:01 河东区:02 河西区:03 南开区:04 河北区:05 红桥区:06 东丽区:10 西青区:11 "
        "津南区:12 北辰区:13 武清区:14 宝坻区:15 滨海新区:16 宁河区:17 静海区:18 蓟州区:19",
    ),
    (
        "上海市",
        "3101",
        "第一:01 第二:02 第三:03",
        "黄浦区:01 徐汇区:04 长宁区:05 静安区:06 普陀区:07 虹口区:09 杨浦区:10 闵行区:12 "
        "宝山区:13 嘉定区:14 浦东新区:15 金山区:16 松江区:17 青浦区:18 奉贤区:20 崇明区:51",
    ),
    (
        "重庆市",
        "5001",
        "第一:01 第二:02 第三:03 第四:04 第五:05",
        "万州区:01 涪陵区:02 渝中区:03 大渡口区:04 江北区:05 沙坪坝区:06 九龙坡区:07 "
        "南岸区:08 北碚区:09 渝北区:12 巴南区:13",
    ),
    (
        "石家庄市",
        "1301",
        "",
        "长安区:02 桥西区:04 新华区:05 井陉矿区:07 裕华区:08 藁城区:09 鹿泉区:10 栾城区:11",
    ),
    (
        "唐山市",
        "1302",
        "",
        "路南区:02 路北区:03 古冶区:04 开平区:05 丰南区:07 丰润区:08 曹妃甸区:09 迁安市:83",
    ),
    ("邯郸市", "1304", "", "邯山区:02 丛台区:03 复兴区:04"),
    ("保定市", "1306", "", "竞秀区:02 莲池区:06 满城区:07"),
    ("廊坊市", "1310", "", "安次区:02 广阳区:03 三河市:82"),
    (
        "太原市",
        "1401",
        "",
        "小店区:05 迎泽区:06 杏花岭区:07 尖草坪区:08 万柏林区:09 晋源区:10",
    ),
    ("大同市", "1402", "", "平城区:13"),
    ("运城市", "1408", "", "盐湖区:02"),
    ("呼和浩特市", "1501", "", "新城区:02 回民区:03 玉泉区:04 赛罕区:05"),
    ("包头市", "1502", "", "东河区:02 昆都仑区:03 青山区:04"),
    ("鄂尔多斯市", "1506", "", "东胜区:02"),
    (
        "沈阳市",
        "2101",
        "",
        "和平区:02 沈河区:03 大东区:04 皇姑区:05 铁西区:06 浑南区:12 于洪区:14",
    ),
    (
        "大连市",
        "2102",
        "",
        "中山区:02 西岗区:03 沙河口区:04 甘井子区:11 旅顺口区:12 金州区:13",
    ),
    ("鞍山市", "2103", "", "铁东区:02 铁西区:03"),
    ("长春市", "2201", "", "南关区:02 宽城区:03 朝阳区:04 二道区:05 绿园区:06"),
    ("吉林市", "2202", "", "昌邑区:02 龙潭区:03 船营区:04"),
    (
        "哈尔滨市",
        "2301",
        "",
        "道里区:02 南岗区:03 道外区:04 平房区:08 松北区:09 香坊区:10",
    ),
    ("大庆市", "2306", "", "萨尔图区:02 让胡路区:04"),
    (
        "南京市",
        "3201",
        "",
        "玄武区:02 秦淮区:04 建邺区:05 鼓楼区:06 浦口区:11 栖霞区:13 雨花台区:14 "
        "江宁区:15 六合区:16",
    ),
    (
        "无锡市",
        "3202",
        "",
        "锡山区:05 惠山区:06 滨湖区:11 梁溪区:13 新吴区:14 江阴市:81 宜兴市:82",
    ),
    ("徐州市", "3203", "", "鼓楼区:02 云龙区:03 泉山区:11"),
    ("常州市", "3204", "", "天宁区:02 钟楼区:04 新北区:11 武进区:12"),
    (
        "苏州市",
        "3205",
        "",
        "虎丘区:05 吴中区:06 相城区:07 姑苏区:08 吴江区:09 常熟市:81 张家港市:82 "
        "昆山市:83 太仓市:85",
    ),
    ("南通市", "3206", "", "崇川区:02 通州区:12"),
    (
        "杭州市",
        "3301",
        "",
        "上城区:02 拱墅区:05 西湖区:06 滨江区:08 萧山区:09 余杭区:10 富阳区:11 临安区:12",
    ),
    (
        "宁波市",
        "3302",
        "",
        "海曙区:03 江北区:05 北仑区:06 镇海区:11 鄞州区:12 奉化区:13 余姚市:81 慈溪市:82",
    ),
    (
        "温州市",
        "3303",
        "",
        "鹿城区:02 龙湾区:03 瓯海区:04 洞头区:05 瑞安市:81 乐清市:82",
    ),
    ("嘉兴市", "3304", "", "南湖区:02 秀洲区:11"),
    ("绍兴市", "3306", "", "越城区:02 柯桥区:03 上虞区:04 诸暨市:81"),
    ("金华市", "3307", "", "婺城区:02 金东区:03 义乌市:82 东阳市:83 永康市:84"),
    ("台州市", "3310", "", "椒江区:02 黄岩区:03 路桥区:04 温岭市:81"),
    (
        "合肥市",
        "3401",
        "",
        "瑶海区:02 庐阳区:03 蜀山区:04 包河区:11 长丰县:21 肥东县:22 肥西县:23",
    ),
    ("芜湖市", "3402", "", "镜湖区:02"),
    ("阜阳市", "3412", "", "颍州区:02"),
    (
        "福州市",
        "3501",
        "",
        "鼓楼区:02 台江区:03 仓山区:04 马尾区:05 晋安区:11 福清市:81",
    ),
    (
        "厦门市",
        "3502",
        "",
        "思明区:03 海沧区:05 湖里区:06 集美区:11 同安区:12 翔安区:13",
    ),
    (
        "泉州市",
        "3505",
        "",
        "鲤城区:02 丰泽区:03 洛江区:04 石狮市:81 晋江市:82 南安市:83",
    ),
    ("南昌市", "3601", "", "东湖区:02 西湖区:03 青云谱区:04 青山湖区:11 新建区:12"),
    ("赣州市", "3607", "", "章贡区:02 南康区:03"),
    (
        "济南市",
        "3701",
        "",
        "历下区:02 市中区:03 槐荫区:04 天桥区:05 历城区:12 长清区:13 章丘区:14",
    ),
    (
        "青岛市",
        "3702",
        "",
        "市南区:02 市北区:03 黄岛区:11 崂山区:12 李沧区:13 城阳区:14 即墨区:15 胶州市:81 平度市:83",
    ),
    ("淄博市", "3703", "", "淄川区:02 张店区:03"),
    ("烟台市", "3706", "", "芝罘区:02 福山区:11 莱山区:13"),
    ("潍坊市", "3707", "", "潍城区:02 寒亭区:03 坊子区:04 奎文区:05"),
    ("临沂市", "3713", "", "兰山区:02 罗庄区:11 河东区:12"),
    (
        "郑州市",
        "4101",
        "",
        "中原区:02 二七区:03 管城回族区:04 金水区:05 上街区:06 惠济区:08 巩义市:81 "
        "荥阳市:82 新密市:83 新郑市:84",
    ),
    ("洛阳市", "4103", "", "老城区:02 西工区:03 涧西区:05"),
    ("新乡市", "4107", "", "红旗区:02 卫滨区:03"),
    ("南阳市", "4113", "", "宛城区:02 卧龙区:03"),
    ("商丘市", "4114", "", "梁园区:02 睢阳区:03"),
    ("周口市", "4116", "", "川汇区:02"),
    (
        "武汉市",
        "4201",
        "",
        "江岸区:02 江汉区:03 硚口区:04 汉阳区:05 武昌区:06 青山区:07 洪山区:11 "
        "东西湖区:12 汉南区:13 蔡甸区:14 江夏区:15 黄陂区:16 新洲区:17",
    ),
    ("宜昌市", "4205", "", "西陵区:02 伍家岗区:03"),
    ("襄阳市", "4206", "", "襄城区:02 樊城区:06"),
    (
        "长沙市",
        "4301",
        "",
        "芙蓉区:02 天心区:03 岳麓区:04 开福区:05 雨花区:11 望城区:12 长沙县:21 浏阳市:81 宁乡市:82",
    ),
    ("株洲市", "4302", "", "荷塘区:02 芦淞区:03 石峰区:04 天元区:11"),
    ("衡阳市", "4304", "", "珠晖区:05 雁峰区:06 石鼓区:07 蒸湘区:08"),
    ("岳阳市", "4306", "", "岳阳楼区:02"),
    (
        "广州市",
        "4401",
        "",
        "荔湾区:03 越秀区:04 海珠区:05 天河区:06 白云区:11 黄埔区:12 番禺区:13 "
        "花都区:14 南沙区:15 从化区:17 增城区:18",
    ),
    (
        "深圳市",
        "4403",
        "",
        "罗湖区:03 福田区:04 南山区:05 宝安区:06 龙岗区:07 盐田区:08 龙华区:09 坪山区:10 光明区:11",
    ),
    ("珠海市", "4404", "", "香洲区:02 斗门区:03 金湾区:04"),
    ("汕头市", "4405", "", "龙湖区:07 金平区:11 濠江区:12 潮阳区:13 潮南区:14 澄海区:15"),
    ("佛山市", "4406", "", "禅城区:04 南海区:05 顺德区:06 三水区:07 高明区:08"),
    ("江门市", "4407", "", "蓬江区:03 江海区:04 新会区:05"),
    ("湛江市", "4408", "", "赤坎区:02 霞山区:03"),
    ("惠州市", "4413", "", "惠城区:02 惠阳区:03 博罗县:22 惠东县:23"),
    ("东莞市", "4419", "", "第一:71 第二:72 第三:73"),
    ("中山市", "4420", "", "第一:71 第二:72"),
    ("揭阳市", "4452", "", "榕城区:02 普宁市:81"),
    (
        "南宁市",
        "4501",
        "",
        "兴宁区:02 青秀区:03 江南区:05 西乡塘区:07 良庆区:08 邕宁区:09",
    ),
    ("柳州市", "4502", "", "城中区:02 鱼峰区:03 柳南区:04 柳北区:05"),
    ("桂林市", "4503", "", "秀峰区:02 叠彩区:03 象山区:04 七星区:05"),
    ("海口市", "4601", "", "秀英区:05 龙华区:06 琼山区:07 美兰区:08"),
    (
        "成都市",
        "5101",
        "",
        "锦江区:04 青羊区:05 金牛区:06 武侯区:07 成华区:08 龙泉驿区:12 青白江区:13 "
        "新都区:14 温江区:15 双流区:16 郫都区:17",
    ),
    ("绵阳市", "5107", "", "涪城区:03 游仙区:04"),
    ("南充市", "5113", "", "顺庆区:02"),
    ("宜宾市", "5115", "", "翠屏区:02"),
    (
        "贵阳市",
        "5201",
        "",
        "南明区:02 云岩区:03 花溪区:11 乌当区:12 白云区:13 观山湖区:15",
    ),
    ("遵义市", "5203", "", "红花岗区:02 汇川区:03"),
    ("昆明市", "5301", "", "五华区:02 盘龙区:03 官渡区:11 西山区:12 呈贡区:14"),
    ("曲靖市", "5303", "", "麒麟区:02"),
    ("拉萨市", "5401", "", "城关区:02"),
    (
        "西安市",
        "6101",
        "",
        "新城区:02 碑林区:03 莲湖区:04 灞桥区:11 未央区:12 雁塔区:13 阎良区:14 临潼区:15 长安区:16",
    ),
    ("宝鸡市", "6103", "", "渭滨区:02 金台区:03"),
    ("咸阳市", "6104", "", "秦都区:02 渭城区:04"),
    ("兰州市", "6201", "", "城关区:02 七里河区:03 西固区:04 安宁区:05"),
    ("天水市", "6205", "", "秦州区:02 麦积区:03"),
    ("西宁市", "6301", "", "城东区:02 城中区:03 城西区:04 城北区:05"),
    ("银川市", "6401", "", "兴庆区:04 西夏区:05 金凤区:06"),
    (
        "乌鲁木齐市",
        "6501",
        "",
        "天山区:02 沙依巴克区:03 新市区:04 水磨沟区:05 头屯河区:06 米东区:09",
    ),
    ("克拉玛依市", "6502", "-", "克拉玛依区:03"),
    ("吐鲁番市", "6504", "-", "高昌区:02"),
    ("昌吉回族自治州", "6523", "", "昌吉市:01"),
    ("阿克苏地区", "6529", "", "阿克苏市:01"),
    ("喀什地区", "6531", "", "喀什市:01 疏附县:21 疏勒县:22"),
    ("和田地区", "6532", "", "和田市:01"),
    ("伊犁哈萨克自治州", "6540", "-", "伊宁市:02"),
)
_CITY_SUFFIXES = ("回族自治州", "哈萨克自治州", "地区", "市")
_BASIC_COURT_WEIGHT = 10.0
_INTERMEDIATE_COURT_WEIGHT = 1.0


@dataclass(frozen=True, slots=True)
class Court:
    name: str
    code: str  # as in case numbers: 京0105
    key: str  # ASCII, for entry ids: the division code, or e.g. 110100 for 京01
    area: str  # areaName: the province's short name
    city: str
    city_short: str  # 深圳, 喀什: as firms and arbitration commissions use it
    regions: tuple[str, ...]  # division codes of the people and firms it mostly deals with
    appeal: Court | None  # the intermediate court above it
    intermediate: bool


@cache
def courts() -> tuple[Court, ...]:
    """About 520 real basic and intermediate people's courts with their case-number codes."""
    result: list[Court] = []
    for city, city_code, intermediate_spec, basic_spec in _CITIES:
        abbr, area = _PROVINCES[city_code[:2]]
        regions = tuple(_court_region(city_code, token) for token in basic_spec.split())
        upper = _intermediate_courts(city, city_code, intermediate_spec, abbr, area, regions)
        result.extend(upper)
        for index, token in enumerate(basic_spec.split()):
            district, digits = token.split(":")
            region = _court_region(city_code, token)
            name = (
                f"{city}{district}" if district.endswith("区") or district[0] == "第" else district
            )
            result.append(
                Court(
                    name=f"{name}人民法院",
                    code=f"{abbr}{city_code[2:]}{digits}",
                    key=f"{city_code}{digits}",
                    area=area,
                    city=city,
                    city_short=_short_city(city),
                    regions=(region,),
                    appeal=upper[index % len(upper)] if upper else None,
                    intermediate=False,
                )
            )
    return tuple(result)


def _short_city(city: str) -> str:
    for suffix in _CITY_SUFFIXES:
        if city.endswith(suffix):
            return city.removesuffix(suffix)
    return city


def _court_region(city_code: str, token: str) -> str:
    district, digits = token.split(":")
    # A numbered court of a city without districts serves the whole city (441900).
    return f"{city_code}00" if district[0] == "第" else f"{city_code}{digits}"


def _intermediate_courts(
    city: str, city_code: str, spec: str, abbr: str, area: str, regions: tuple[str, ...]
) -> list[Court]:
    if spec == "-":
        return []
    numbered = [token.split(":") for token in spec.split()] or [["", city_code[2:]]]
    return [
        Court(
            name=f"{city}{ordinal}中级人民法院",
            code=f"{abbr}{digits}",
            key=f"{city_code[:2]}{digits}00",  # never a district code: those end in 01-99
            area=area,
            city=city,
            city_short=_short_city(city),
            regions=regions,
            appeal=None,
            intermediate=True,
        )
        for ordinal, digits in numbered
    ]


# Listing grounds as the national platform names the conduct (Rules Art. 1). Each: (text,
# weight, severity weights for 一般/较重/严重, fixed listing period).
_CONDUCTS: tuple[tuple[str, float, tuple[float, float, float], bool], ...] = (
    ("有履行能力而拒不履行生效法律文书确定义务", 50, (50, 35, 15), False),
    ("其他有履行能力而拒不履行生效法律文书确定义务", 5, (50, 35, 15), False),
    ("以伪造证据、暴力、威胁等方法妨碍、抗拒执行", 3, (0, 30, 70), True),
    ("以虚假诉讼、虚假仲裁或者以隐匿、转移财产等方法规避执行", 4, (0, 30, 70), True),
    ("违反财产报告制度", 22, (60, 40, 0), True),
    ("违反限制消费令", 10, (20, 60, 20), True),
    ("无正当理由拒不履行执行和解协议", 3, (50, 50, 0), True),
    ("违反财产报告制度,有履行能力而拒不履行生效法律文书确定义务", 3, (30, 60, 10), True),
)
_SEVERITIES = ("一般", "较重", "严重")
_NO_PERIOD_SHARE = 0.3  # ground 1 has no fixed period; some of its entries show none

# Rules Art. 10 (seed 001 四、(二)4): the seven grounds for deleting or shielding an entry.
_REMOVAL_GROUNDS: tuple[tuple[str, float], ...] = (
    ("被执行人已履行生效法律文书确定的义务或人民法院已执行完毕的", 50),
    ("当事人达成执行和解协议且已履行完毕的", 15),
    ("申请执行人书面申请删除失信信息，人民法院审查同意的", 10),
    (
        "终结本次执行程序后，通过网络执行查控系统查询被执行人财产两次以上，未发现有可供执行财产，"
        "且申请执行人或者其他人未提供有效财产线索的",
        10,
    ),
    ("因审判监督或破产程序，人民法院依法裁定对失信被执行人中止执行的", 5),
    ("人民法院依法裁定不予执行的", 5),
    ("人民法院依法裁定终结执行的", 5),
)
_REVOKE_REASON = "不应纳入失信被执行人名单"
_REMOVAL_OPS: tuple[tuple[str, float], ...] = (("shield", 45), ("delete", 40), ("revoke", 15))

# Obligation texts, each with who the creditor is: a person, a company, either, or not named.
_DUTIES: tuple[tuple[str, str], ...] = (
    ("偿还{creditor}借款本金人民币{amount}元及利息", "any"),
    ("支付{creditor}货款人民币{amount}元及逾期付款违约金", "company"),
    ("支付{creditor}工程款人民币{amount}元", "any"),
    ("支付{creditor}劳动报酬人民币{amount}元", "person"),
    ("赔偿{creditor}经济损失人民币{amount}元", "any"),
    ("返还{creditor}租金人民币{amount}元并承担案件受理费", "any"),
    ("偿还{creditor}信用卡透支本金人民币{amount}元及利息、滞纳金", "bank"),
    ("支付{creditor}合同款人民币{amount}元及迟延履行期间的债务利息", "company"),
    ("详见执行依据，执行标的人民币{amount}元", "none"),
)
# Invented bank names: a card-debt creditor must not be a real bank either.
_BANK_SUFFIXES = ("农村商业银行股份有限公司", "村镇银行股份有限公司")
_PARTLY_PAID_SHARE = 0.2  # performance 部分履行; the rest 全部未履行
_OTHER_GIST_KINDS = ("民特", "刑初", "民终")

# Age at publish (never a minor, Rules Art. 4): bands with weights.
_AGE_BANDS: tuple[tuple[int, int, float], ...] = (
    (18, 24, 5),
    (25, 34, 22),
    (35, 44, 30),
    (45, 54, 25),
    (55, 64, 13),
    (65, _MAX_AGE, 5),
)

# Uyghur-style given names; the second part of a full name is the father's given name.
_MINORITY_MALE = (
    "阿不都",
    "买买提",
    "艾力",
    "热合曼",
    "吐尔逊",
    "艾合买提",
    "阿卜杜拉",
    "努尔兰",
    "依明",
    "肉孜",
    "亚森",
    "玉素甫",
    "卡德尔",
    "艾尔肯",
    "吾斯曼",
    "阿迪力",
    "麦麦提",
    "图尔洪",
    "克依木",
    "阿布力孜",
    "买合木提",
    "吐尔洪",
    "艾则孜",
)
_MINORITY_FEMALE = (
    "阿依古丽",
    "古丽娜尔",
    "帕提古丽",
    "热依拉",
    "迪丽娜尔",
    "阿依努尔",
    "再努尔",
    "米热古丽",
    "阿米娜",
    "祖丽菲亚",
    "努尔曼古丽",
    "古再丽",
    "阿瓦古丽",
    "布帕提玛",
)
_MINORITY_SHARE_XINJIANG = 0.40
_MINORITY_SHARE = 0.004  # outside Xinjiang
# Copied names carry whichever middle dot the source used; normalization must unify them.
_NAME_DOTS: tuple[tuple[str, float], ...] = (("·", 85), ("•", 10), ("・", 5))

_TRADE_CHARS = (
    "鑫华泰恒瑞祥隆兴盛丰源宏达信诚嘉和德昌荣辉明安康富鼎创新远航博润升腾凯旭佳豪"
    "金银联合众益宇海天正晟弘汇通聚力星耀永铭锦程卓越致远东方中环广汇宝"
)
_INDUSTRIES = (
    "建筑工程",
    "房地产开发",
    "商贸",
    "贸易",
    "实业",
    "投资",
    "科技",
    "网络科技",
    "信息技术",
    "餐饮管理",
    "物流",
    "装饰工程",
    "建材",
    "机械设备",
    "汽车销售",
    "文化传媒",
    "农业开发",
    "医药",
    "电子",
    "服装",
    "食品",
    "化工",
    "置业",
    "劳务",
    "供应链管理",
    "环保科技",
    "教育咨询",
    "物业管理",
    "酒店管理",
    "包装材料",
)
_COMPANY_FORMS: tuple[tuple[str, float], ...] = (
    ("有限公司", 80),
    ("有限责任公司", 12),
    ("股份有限公司", 5),
    ("合伙企业（有限合伙）", 3),
)
# GB 32100 leaves out I, O, S, V and Z; post-2015 organization codes start with MA.
_CREDIT_BODY_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_NEW_STYLE_ORG_SHARE = 0.4


class _FastRandom(Random):
    """Random with randint and choice built on one random() call: the stock ones cost about
    five times more, and the feed makes tens of millions of draws for a million entries. The
    bias of scaling a 53-bit float is far below anything a demo could show."""

    def randint(self, a: int, b: int) -> int:
        return a + int(self.random() * (b - a + 1))

    def choice(self, seq: Sequence[Any]) -> Any:
        return seq[int(self.random() * len(seq))]


class _Weighted:
    """A fixed weighted choice: each item fills a share of 4,096 slots matching its weight,
    and one getrandbits(12) picks a slot (several times faster than rng.choices)."""

    __slots__ = ("table",)
    BITS = 12

    def __init__(self, pairs: Sequence[tuple[Any, float]]) -> None:
        slots = 1 << self.BITS
        total = sum(weight for _, weight in pairs)
        bounds = [round(c / total * slots) for c in accumulate(w for _, w in pairs)]
        table: list[Any] = []
        for (item, _), bound in zip(pairs, bounds, strict=True):
            table.extend([item] * (bound - len(table)))
        self.table = tuple(table)

    def pick(self, rng: Random) -> Any:
        return self.table[rng.getrandbits(self.BITS)]


# Draws (text, fixed listing period, severity choice).
_CONDUCT_CHOICE = _Weighted(
    [
        ((text, fixed, _Weighted(list(zip(_SEVERITIES, severities, strict=True)))), weight)
        for text, weight, severities, fixed in _CONDUCTS
    ]
)
_REMOVAL_GROUND_CHOICE = _Weighted(_REMOVAL_GROUNDS)
_REMOVAL_OP_CHOICE = _Weighted(_REMOVAL_OPS)
_AGE_CHOICE = _Weighted(
    [
        (age, weight / (high - low + 1))
        for low, high, weight in _AGE_BANDS
        for age in range(low, high + 1)
    ]
)
_DOT_CHOICE = _Weighted(_NAME_DOTS)
_FORM_CHOICE = _Weighted(_COMPANY_FORMS)


# Dates. The feed keeps days as proleptic ordinals: cheaper than date arithmetic in its loop.

_ISO, _COMPACT, _CHINESE = 2, 3, 4  # indexes into _day()


@cache
def _day(ordinal: int) -> tuple[date, int, str, str, str]:
    """The date, its year, and its ISO, compact (the platform's regDate) and Chinese (the
    platform's publishDate) forms."""
    day = date.fromordinal(ordinal)
    y, m, d = day.year, day.month, day.day
    return (
        day,
        y,
        f"{y:04d}-{m:02d}-{d:02d}",
        f"{y:04d}{m:02d}{d:02d}",
        f"{y:04d}年{m:02d}月{d:02d}日",
    )


_SEQUENCES = tuple(f"{n:03d}" for n in range(1000))  # ID digits 15-17, preformatted


def _years_before(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February
        return day.replace(year=day.year - years, day=28)


@cache
def _listing_end(publish: int) -> int:
    return _years_before(_day(publish)[0], -_LISTING_YEARS).toordinal()


def _weekday(ordinal: int) -> int:
    return (ordinal - 1) % 7  # ordinal 1, 0001-01-01, was a Monday (0)


def _weekday_on_or_before(ordinal: int) -> int:
    # Courts publish and file on working days; holidays are left to search_index.dates.
    return ordinal - max(0, (ordinal - 1) % 7 - 4)  # as _weekday, inlined: hot


def _weekday_on_or_after(ordinal: int) -> int:
    weekday = _weekday(ordinal)
    return ordinal + (7 - weekday if weekday >= 5 else 0)


def _weekdays_back(ordinal: int, n: int) -> int:
    """The n-th weekday counted back from ``ordinal`` (itself included when a weekday)."""
    day = ordinal + 1
    while n:
        day -= 1
        n -= _weekday(day) < 5
    return day


def _weekday_between(ordinal: int, low: int, high: int) -> int | None:
    """``ordinal`` moved off a weekend while staying inside [low, high]; None if it cannot."""
    weekday = _weekday(ordinal)
    if weekday >= 5:
        ordinal += 7 - weekday
        if ordinal > high:
            ordinal -= 3
    return ordinal if low <= ordinal <= high else None


def _age_on(born: date, day: date) -> int:
    return day.year - born.year - ((day.month, day.day) < (born.month, born.day))


# The feed


@dataclass(slots=True)
class _Case:
    """One enforcement case; co-debtors share it."""

    court: Court
    code: str
    reg: int
    publish: int
    details: dict[str, str]  # gistId ... unperformPart, shared by its debtors' lines


@dataclass(slots=True)
class _Person:
    name: str
    male: bool
    id_number: str
    born: date


@dataclass(slots=True)
class _Org:
    name: str
    card: str
    representative: str


@dataclass(frozen=True, slots=True)
class _Pools:
    male: tuple[str, ...]
    female: tuple[str, ...]
    trade: tuple[str, ...]


@lru_cache(maxsize=4)
def _pools(seed: int) -> _Pools:
    """Names drawn once per seed. Faker is slow per call, so the feed combines these pools
    with its seeded Random instead; they have their own Random, so caching them does not
    change the feed."""
    fake = Faker("zh_CN")
    fake.seed_instance(seed)
    rng = Random(seed)
    return _Pools(
        male=tuple(fake.name_male() for _ in range(_NAME_POOL)),
        female=tuple(fake.name_female() for _ in range(_NAME_POOL)),
        trade=tuple(
            rng.choice(_TRADE_CHARS) + rng.choice(_TRADE_CHARS) for _ in range(_TRADE_NAME_POOL)
        ),
    )


def data_range(today: date | None = None) -> tuple[date, date]:
    """The first and last day of a feed generated on ``today`` (China time by default): no
    publish date and no effectiveAt lies outside them. The last day is the day before
    ``today``, so every line has taken effect whatever the hour of the import."""
    end = (today or today_cst()) - timedelta(days=1)
    return end - timedelta(days=_SPAN_DAYS), end


class _Feed:
    """The generator's state. Per-entry paths draw with ``rnd()``, the bound random(), and
    index sequences directly: a million entries take some 40 million draws, and a method
    call per draw would cost more than the rest of the work."""

    def __init__(self, count: int, seed: int, today: date | None) -> None:
        self.count = count
        self.rng = _FastRandom(seed)
        self.rnd = self.rng.random
        self.pools = _pools(seed)
        all_courts = courts()
        self.court_choice = _Weighted(
            [
                (c, _INTERMEDIATE_COURT_WEIGHT if c.intermediate else _BASIC_COURT_WEIGHT)
                for c in all_courts
            ]
        )
        self.all_regions = sorted({r for c in all_courts if not c.intermediate for r in c.regions})
        self.to_traditional = opencc.OpenCC("s2t")
        self.case_numbers: dict[tuple[str, int], int] = {}
        self.people: dict[str, list[_Person]] = {}  # by court key
        self.orgs: dict[str, list[_Org]] = {}
        self.pending: list[tuple[str, int, dict[str, Any]]] = []  # heap by effectiveAt
        self.scheduled = 0
        first, last = data_range(today)
        # The first weekday of the range: publish days are moved back off weekends, and the
        # range's own first day may be a Saturday.
        self.start = _weekday_on_or_after(first.toordinal())
        self.span = last.toordinal() - self.start
        self.recent_start = self.span - _RECENT_DAYS
        self.live_start = last.toordinal() - LIVE_DAYS + 1
        self.live_low = _weekdays_back(last.toordinal(), _LIVE_WEEKDAYS)

    def events(self) -> Iterator[dict[str, Any]]:
        pending = self.pending
        rnd = self.rnd
        case: _Case | None = None
        for seq in range(self.count):
            if case is None or rnd() >= _CO_DEBTOR_SHARE:
                case = self._new_case(self._publish_day(seq))
            cutoff = _day(case.publish)[_ISO]
            # Same-day events sort after the bare date, so they follow that day's publishes.
            while pending and pending[0][0] < cutoff:
                yield heapq.heappop(pending)[2]
            entry, valid_until = self._publish(seq, case)
            yield entry
            if entry["disclose"]:
                self._schedule_follow_ups(entry, case, valid_until)
        while pending:
            yield heapq.heappop(pending)[2]

    # Cases

    def _publish_day(self, seq: int) -> int:
        """Non-decreasing in ``seq``: an inverse CDF of a density that is higher in the last
        two years, applied to evenly spaced jittered quantiles."""
        u = (seq + self.rnd()) / self.count
        if u < _OLD_SHARE:
            offset = u / _OLD_SHARE * self.recent_start
        else:
            offset = self.recent_start + (u - _OLD_SHARE) / _RECENT_SHARE * _RECENT_DAYS
        return _weekday_on_or_before(self.start + min(int(offset), self.span))

    def _new_case(self, publish: int) -> _Case:
        rnd = self.rnd
        court: Court = self.court_choice.pick(self.rng)
        reg = _weekday_on_or_before(publish - 15 - int(rnd() * 386))
        year = _day(reg)[1]
        # The platform writes ASCII brackets; court documents often full-width ones.
        bracketed = f"（{year}）" if rnd() < 0.1 else f"({year})"
        kind = "执恢" if rnd() < 0.1 else "执"
        code = f"{bracketed}{court.code}{kind}{self._next_case_number(court, year)}号"
        gist_id, gist_unit = self._gist(court, year)
        amount = self._amount()
        paid = int(amount * (0.05 + 0.75 * rnd())) if rnd() < _PARTLY_PAID_SHARE else 0
        details = {
            "gistId": gist_id,
            "gistUnit": gist_unit,
            "duty": self._duty(court, amount),
            "performance": "部分履行" if paid else "全部未履行",
            "performedPart": f"{paid}元" if paid else "暂无",
            "unperformPart": f"{amount - paid}元",
        }
        return _Case(court, code, reg, publish, details)

    def _next_case_number(self, court: Court, year: int) -> int:
        key = (court.key, year)
        number = self.case_numbers.get(key) or 1 + int(self.rnd() * 300)
        self.case_numbers[key] = number + 1 + int(self.rnd() * 40)
        return number

    def _gist(self, court: Court, year: int) -> tuple[str, str]:
        """Basis document number and issuing body: usually a judgment of the same court."""
        rnd = self.rnd
        roll = rnd()
        gist_year = year - (0 if roll < 0.4 else 1 if roll < 0.85 else 2)
        number = 1 + int(rnd() * 20000)
        roll = rnd()
        if roll < 0.72 or (roll < 0.85 and court.appeal is None):
            kind = "民初" if rnd() < 0.88 else _OTHER_GIST_KINDS[int(rnd() * 3)]
            return f"({gist_year}){court.code}{kind}{number}号", court.name
        if roll < 0.85 and court.appeal is not None:
            return f"({gist_year}){court.appeal.code}民终{number}号", court.appeal.name
        city = court.city_short
        if roll < 0.95:
            return f"({gist_year}){city}仲裁字第{number}号", f"{city}仲裁委员会"
        return f"({gist_year}){city}证执字第{number}号", f"{court.city}公证处"

    def _amount(self) -> int:
        # Log-uniform between 3,000 and 5,000,000 yuan: many small debts, a few large ones.
        return int(math.exp(8.0 + 7.4 * self.rnd()))

    def _duty(self, court: Court, amount: int) -> str:
        rnd = self.rnd
        template, kind = _DUTIES[int(rnd() * len(_DUTIES))]
        if kind == "bank":
            trade = self.pools.trade[int(rnd() * len(self.pools.trade))]
            creditor = f"{court.city_short}{trade}{_BANK_SUFFIXES[int(rnd() * 2)]}"
        elif kind == "none":
            creditor = ""
        elif kind == "person" or (kind == "any" and rnd() < 0.5):
            creditor = self._person_name(rnd() < _MALE_SHARE, court, dot="·")
        else:
            creditor = self._company_name(court)
        return template.format(creditor=creditor, amount=amount)

    # Publish lines

    def _publish(self, seq: int, case: _Case) -> tuple[dict[str, Any], int | None]:
        rnd = self.rnd
        court = case.court
        conduct, fixed_period, severities = _CONDUCT_CHOICE.pick(self.rng)
        valid_until = None
        if fixed_period or rnd() >= _NO_PERIOD_SHARE:
            valid_until = _listing_end(case.publish)
        is_org = rnd() < _ORG_SHARE
        entry: dict[str, Any] = {
            "op": "publish",
            "id": f"{court.key}-{_day(case.reg)[1]}-{str(seq).zfill(8)}",
            "caseCode": case.code,
            **(self._org(court) if is_org else self._person(court, case.publish)),
            "courtName": court.name,
            "areaName": court.area,
        }
        if rnd() < _PARTY_TYPE_SHARE:
            entry["partyTypeName"] = "法人或其他组织" if is_org else "自然人"
        entry.update(case.details)
        # Each date field in the platform's own form 60% of the time, the others 25%, 15%.
        roll = rnd()
        entry["regDate"] = _day(case.reg)[
            _COMPACT if roll < 0.6 else _ISO if roll < 0.85 else _CHINESE
        ]
        entry["disruptTypeName"] = conduct
        roll = rnd()
        entry["publishDate"] = _day(case.publish)[
            _CHINESE if roll < 0.6 else _ISO if roll < 0.85 else _COMPACT
        ]
        if valid_until is not None:
            entry["validUntil"] = _day(valid_until)[_ISO]
        entry["severity"] = severities.pick(self.rng)
        entry["disclose"] = rnd() >= _UNDISCLOSED_SHARE
        return entry, valid_until

    def _variant(self, name: str) -> str:
        # A few courts' systems push traditional characters; search must not care.
        if self.rnd() < _TRADITIONAL_SHARE:
            return self.to_traditional.convert(name)
        return name

    # Parties: people and firms often owe in several cases, so some come back.

    def _recall(self, known: dict[str, list[Any]], court: Court, share: float) -> Any:
        seen = known.get(court.key)
        if seen and self.rnd() < share:
            return seen[int(self.rnd() * len(seen))]
        return None

    def _remember(self, known: dict[str, list[Any]], court: Court, party: Any) -> None:
        seen = known.setdefault(court.key, [])
        if len(seen) < _REMEMBERED_PER_COURT:
            seen.append(party)
        else:  # bounded, so a million-entry feed does not hold every party in memory
            seen[int(self.rnd() * len(seen))] = party

    def _person(self, court: Court, publish: int) -> dict[str, Any]:
        today = _day(publish)[0]
        person: _Person | None = self._recall(self.people, court, _REPEAT_PERSON_SHARE)
        age = _age_on(person.born, today) if person is not None else _MAX_AGE + 1
        if person is None or age > _MAX_AGE:
            age = _AGE_CHOICE.pick(self.rng)
            person = self._new_person(court, today, age)
            self._remember(self.people, court, person)
        card = person.id_number
        if self.rnd() < _MASKED_ID_SHARE:
            card = mask_id_number(card)
        return {
            "iname": self._variant(person.name),
            "cardNum": card,
            "sexy": "男" if person.male else "女",
            "age": age,
        }

    def _new_person(self, court: Court, today: date, age: int) -> _Person:
        rnd = self.rnd
        male = rnd() < _MALE_SHARE
        # The latest birthday that makes the person ``age`` today, and up to 364 days earlier.
        born = _years_before(today, age).toordinal() - int(rnd() * 365)
        # The 17th digit is odd for men and even for women (GB 11643).
        sequence = 2 + 2 * int(rnd() * 499) + male
        first17 = f"{self._region(court)}{_day(born)[_COMPACT]}{_SEQUENCES[sequence]}"
        name = self._person_name(male, court)
        return _Person(name, male, first17 + id_check_char(first17), _day(born)[0])

    def _region(self, court: Court) -> str:
        # Most debtors live where their court sits; the rest have moved from elsewhere.
        regions = court.regions if self.rnd() < 0.65 else self.all_regions
        return regions[int(self.rnd() * len(regions))]

    def _person_name(self, male: bool, court: Court, dot: str | None = None) -> str:
        rnd = self.rnd
        if rnd() < (_MINORITY_SHARE_XINJIANG if court.area == "新疆" else _MINORITY_SHARE):
            givens = _MINORITY_MALE if male else _MINORITY_FEMALE
            given = givens[int(rnd() * len(givens))]
            father = _MINORITY_MALE[int(rnd() * len(_MINORITY_MALE))]
            return f"{given}{dot or _DOT_CHOICE.pick(self.rng)}{father}"
        names = self.pools.male if male else self.pools.female
        return names[int(rnd() * _NAME_POOL)]

    def _org(self, court: Court) -> dict[str, Any]:
        org: _Org | None = self._recall(self.orgs, court, _REPEAT_ORG_SHARE)
        if org is None:
            org = self._new_org(court)
            self._remember(self.orgs, court, org)
        return {
            "iname": self._variant(org.name),
            "cardNum": org.card,
            "businessEntity": org.representative,
        }

    def _new_org(self, court: Court) -> _Org:
        org_code = self._org_code()
        if self.rnd() < _ORG_CODE_ONLY_SHARE:
            card = org_code
        else:
            card = self._credit_code(self._region(court), org_code)
        representative = self._person_name(self.rnd() < 0.8, court)
        return _Org(self._company_name(court), card, representative)

    def _company_name(self, court: Court) -> str:
        rnd = self.rnd
        roll = rnd()
        place = court.city if roll < 0.5 else court.city_short if roll < 0.8 else ""
        trade = self.pools.trade[int(rnd() * _TRADE_NAME_POOL)]
        industry = _INDUSTRIES[int(rnd() * len(_INDUSTRIES))]
        return f"{place}{trade}{industry}{_FORM_CHOICE.pick(self.rng)}"

    def _org_code(self) -> str:
        rng = self.rng
        if rng.random() < _NEW_STYLE_ORG_SHARE:
            body = "MA" + "".join(rng.choices(_CREDIT_BODY_CHARS, k=6))
        else:
            body = str(rng.randint(10_000_000, 79_999_999))
        return body + org_code_check_char(body)

    def _credit_code(self, region: str, org_code: str) -> str:
        # 9 = registered by market regulation, 1 = enterprise (GB 32100).
        while True:
            first17 = f"91{region}{org_code}"
            code = first17 + credit_code_check_char(first17)
            # An all-digit code whose "birth date" digits start 19 or 20 may also read as a
            # valid ID number, and would be taken for one.
            if code[6:8] not in ("19", "20") or not is_valid_id_number(code):
                return code
            org_code = self._org_code()

    # Corrections and removals

    def _schedule_follow_ups(
        self, entry: dict[str, Any], case: _Case, valid_until: int | None
    ) -> None:
        rng = self.rng
        after = case.publish
        if rng.random() < _CORRECTED_SHARE:
            at = self._instant(after + 1, after + 120)
            if at is not None:
                event = {
                    "op": "correct",
                    "id": entry["id"],
                    "effectiveAt": at[0],
                    "fields": self._correction(entry, case),
                }
                self._push(at[0], event)
                after = at[1]
        if rng.random() < _REMOVED_SHARE:
            # A removal after the listing period would be moot: the entry has expired.
            high = valid_until - 1 if valid_until else after + 900
            at = self._instant(after + 1, high)
            if at is not None and at[1] >= self.live_start:
                # Recent: within the deadline of an import now (see LIVE_DAYS).
                at = self._instant(max(after + 1, self.live_low), high) or at
            if at is not None:
                op: str = _REMOVAL_OP_CHOICE.pick(rng)
                reason = _REVOKE_REASON if op == "revoke" else _REMOVAL_GROUND_CHOICE.pick(rng)
                event = {"op": op, "id": entry["id"], "effectiveAt": at[0], "reason": reason}
                self._push(at[0], event)

    def _correction(self, entry: dict[str, Any], case: _Case) -> dict[str, Any]:
        rng = self.rng
        roll = rng.random()
        if roll < 0.15:
            year = case.details["gistId"][1:5]
            return {"gistId": f"({year}){case.court.code}民初{rng.randint(1, 20000)}号"}
        if roll < 0.3:
            return {"duty": self._duty(case.court, self._amount())}
        if roll < 0.4 and "businessEntity" in entry:
            return {"businessEntity": self._person_name(rng.random() < 0.8, case.court)}
        owed = int(case.details["unperformPart"].removesuffix("元"))
        paid = max(1, int(owed * rng.uniform(0.1, 0.7)))
        return {
            "performance": "部分履行",
            "performedPart": f"{paid}元",
            "unperformPart": f"{owed - paid}元",
        }

    def _instant(self, low: int, high: int) -> tuple[str, int] | None:
        """A working-hours instant on a weekday in [low, min(high, last day)] and its day."""
        high = min(high, self.start + self.span)
        if high < low:
            return None
        day = _weekday_between(self.rng.randint(low, high), low, high)
        if day is None:
            return None
        minute = self.rng.randint(8 * 60 + 30, 17 * 60 + 30)
        return f"{_day(day)[_ISO]}T{minute // 60:02d}:{minute % 60:02d}:00+08:00", day

    def _push(self, at: str, event: dict[str, Any]) -> None:
        self.scheduled += 1  # tie-break: equal instants keep their order, dicts never compare
        heapq.heappush(self.pending, (at, self.scheduled, event))


# The national platform's own conventions (../shared/realdata/README.md): what a real feed
# looks like beside our tidy one. Applied to each publish line after the feed made it, with
# a Random of their own, so a plain feed stays byte for byte what it always was and a varied
# one holds the same entries, removals and dates, only written the way real records write them.

_SEX_WORDS = {"男": "男性", "女": "女性"}
_LONG_SEX_SHARE = 0.46  # 男性/女性, as often as 男/女
_NO_SEX_SHARE = 0.08  # empty or 暂无
_AGE_TEXT_SHARE = 0.6
_ORG_AGES: tuple[tuple[str | None, float], ...] = (("0", 55), ("", 20), (None, 25))
_ORG_EMPTY_SEX_SHARE = 0.5
_PARTY_CODE_SHARE = 0.5  # of the lines that state partyTypeName: "0"/"1" instead of the name
_PARTY_CODES = {"自然人": "0", "法人或其他组织": "1"}
# Person IDs: of those the plain feed masks, some in the older 11 + 4 + 4 form; of the full
# ones (most, as before) a few first-generation 15-digit numbers and a lower-case x.
_OLD_MASK_SHARE = 0.3
_ID15_SHARE = 0.08  # of full IDs of people born before _ID15_BORN_BEFORE
_ID15_BORN_BEFORE = "1985"
_LOWER_X_SHARE = 0.4  # of full IDs ending in X
# Organizations: masked credit codes, and organization codes (also a firm's embedded one).
_MASKED_CREDIT_SHARE = 0.35
_AS_ORG_CODE_SHARE = 0.1
_ORG_CODE_HYPHEN_SHARE = 0.6
# Cases filed before the 2016 case-number rules: older styles of number.
_OLD_CASE_SHARE_EARLY = 0.12  # of cases published before the feed's last _RECENT_DAYS
_OLD_CASE_SHARE_RECENT = 0.02
_OLD_CASE_YEARS = (2012, 2015)
_OLD_CASE_STYLES: tuple[tuple[str, float], ...] = (
    ("({year}){abbr}执字第{number}号", 45),
    ("({year}){abbr}法执字第{number}号", 10),
    ("({year}){abbr}执恢字第{number}号", 10),
    ("({year}){abbr}法执恢字第{number}号", 10),
    ("{year}年{abbr}执字第{number}号", 25),
)
# "Nothing" as real records write it, in optional fields.
_PLACEHOLDER_CHOICE = _Weighted([("暂无", 55), ("", 20), ("无", 12), ("null", 8), (None, 5)])
_UNPERFORMED_PLACEHOLDER_SHARE = 0.08
_PERSON_ENTITY_SHARE = 0.55  # persons' lines with a placeholder businessEntity
_MIRROR_SHARE = 0.15  # lines carrying the mirror's own keys, which an importer ignores
_MIRROR_HOST = "zxgk.example.cn"  # invented: a demo line must never link a real entry
_EPOCH = date(1970, 1, 1).toordinal()

_ORG_AGE_CHOICE = _Weighted(_ORG_AGES)
_OLD_CASE_STYLE_CHOICE = _Weighted(_OLD_CASE_STYLES)


class _RealConventions:
    """Rewrites the feed's publish lines in the conventions of real records, in realistic
    shares. Everything it draws comes from its own Random (seeded from the feed's seed), so
    the feed's own draws, and with them its entries, are the same as in a plain feed."""

    def __init__(self, seed: int, today: date | None) -> None:
        self.rng = _FastRandom(f"real-conventions:{seed}")
        self.rnd = self.rng.random
        last = data_range(today)[1]
        self.recent_start = last.toordinal() - _RECENT_DAYS
        self.courts = {court.name: court for court in courts()}
        # Co-debtors share a case (consecutive publish lines): they keep one old number.
        self.last_case: tuple[str, dict[str, str]] = ("", {})
        self.mirror_ids = 0

    def apply(self, events: Iterator[dict[str, Any]]) -> Iterator[dict[str, Any]]:
        for event in events:
            yield self.publish(event) if event["op"] == "publish" else event

    def publish(self, plain: dict[str, Any]) -> dict[str, Any]:
        # A copy: the feed still reads its own line when it schedules the follow-ups.
        entry = dict(plain)
        mirror = self.rnd() < _MIRROR_SHARE
        is_org = "businessEntity" in plain  # before persons get a placeholder one
        if is_org:
            self._org(entry, mirror)
        else:
            self._person(entry, mirror)
        self._party_type(entry, mirror, is_org)
        self._case(entry)
        self._placeholders(entry)
        return self._mirror_keys(entry) if mirror else entry

    # Parties

    def _person(self, entry: dict[str, Any], mirror: bool) -> None:
        rnd = self.rnd
        roll = rnd()
        if roll < _NO_SEX_SHARE:
            entry["sexy"] = "" if roll < _NO_SEX_SHARE * 0.6 else "暂无"
        elif mirror or roll < _NO_SEX_SHARE + _LONG_SEX_SHARE:
            entry["sexy"] = _SEX_WORDS[entry["sexy"]]
        if mirror or rnd() < _AGE_TEXT_SHARE:
            entry["age"] = str(entry["age"])
        if mirror or rnd() < _PERSON_ENTITY_SHARE:
            entry["businessEntity"] = "" if mirror else _PLACEHOLDER_CHOICE.pick(self.rng)
        entry["cardNum"] = self._person_card(entry["cardNum"])

    def _person_card(self, card: str) -> str:
        rnd = self.rnd
        if "*" in card:
            if rnd() < _OLD_MASK_SHARE:  # 3423011964****3224 -> 34230119640****3224
                return f"{card[:10]}{self._month_digit()}{card[10:]}"
            return card
        if card[6:10] < _ID15_BORN_BEFORE and rnd() < _ID15_SHARE:
            return card[:6] + card[8:17]  # the first-generation number this one replaced
        if card[-1] == "X" and rnd() < _LOWER_X_SHARE:
            return card[:-1] + "x"
        return card

    def _month_digit(self) -> str:
        # The masked month's first digit: 0 for January to September, else 1.
        return "0" if self.rnd() < 0.75 else "1"

    def _org(self, entry: dict[str, Any], mirror: bool) -> None:
        rnd = self.rnd
        age = "0" if mirror else _ORG_AGE_CHOICE.pick(self.rng)
        if age is not None:
            entry["age"] = age
        if mirror or rnd() < _ORG_EMPTY_SEX_SHARE:
            entry["sexy"] = ""
        card: str = entry["cardNum"]
        if len(card) == 18:
            roll = rnd()
            if roll < _MASKED_CREDIT_SHARE:
                entry["cardNum"] = f"{card[:10]}****{card[14:]}"
                return
            if roll >= _MASKED_CREDIT_SHARE + _AS_ORG_CODE_SHARE:
                return
            card = card[8:17]  # the organization code inside the credit code
        if rnd() < _ORG_CODE_HYPHEN_SHARE:
            card = f"{card[:8]}-{card[8]}"
        entry["cardNum"] = card

    def _party_type(self, entry: dict[str, Any], mirror: bool, is_org: bool) -> None:
        named = entry.get("partyTypeName")
        if named is None and mirror:  # the mirror always says which party it is
            named = "法人或其他组织" if is_org else "自然人"
        if named is not None and (mirror or self.rnd() < _PARTY_CODE_SHARE):
            entry["partyTypeName"] = _PARTY_CODES[named]

    # Cases

    def _case(self, entry: dict[str, Any]) -> None:
        code = entry["caseCode"]
        previous, fields = self.last_case
        if code != previous:
            fields = self._old_case(entry) if self._is_old(entry) else {}
            self.last_case = (code, fields)
        entry.update(fields)

    def _is_old(self, entry: dict[str, Any]) -> bool:
        early = _ordinal_of(entry["publishDate"]) < self.recent_start
        return self.rnd() < (_OLD_CASE_SHARE_EARLY if early else _OLD_CASE_SHARE_RECENT)

    def _old_case(self, entry: dict[str, Any]) -> dict[str, str]:
        """A case filed in 2012-2015, numbered in one of that time's styles, with a filing
        date in the line's own date form and a basis judgment of the same time."""
        rng = self.rng
        court = self.courts[entry["courtName"]]
        year = rng.randint(*_OLD_CASE_YEARS)
        abbr = _old_abbreviation(court, rng.random() < 0.5)
        number = rng.randint(1, 12000)
        digits = f"{number:05d}" if rng.random() < 0.8 else str(number)
        code = _OLD_CASE_STYLE_CHOICE.pick(rng).format(year=year, abbr=abbr, number=digits)
        if code[0] == "(" and rng.random() < 0.1:
            code = code.replace("(", "（").replace(")", "）")
        filed = _weekday_on_or_before(date(year, 1, 1).toordinal() + rng.randint(5, 358))
        form = _date_form(entry["regDate"])
        gist_year = year - (rng.random() < 0.5)
        return {
            "caseCode": code,
            "regDate": _day(filed)[form],
            "gistId": f"({gist_year}){abbr}民初字第{rng.randint(1, 9000):05d}号",
            "gistUnit": court.name,
        }

    # Optional fields and the mirror's keys

    def _placeholders(self, entry: dict[str, Any]) -> None:
        if entry.get("performedPart") == "暂无":
            entry["performedPart"] = _PLACEHOLDER_CHOICE.pick(self.rng)
        if self.rnd() < _UNPERFORMED_PLACEHOLDER_SHARE:
            entry["unperformPart"] = _PLACEHOLDER_CHOICE.pick(self.rng)

    def _mirror_keys(self, entry: dict[str, Any]) -> dict[str, Any]:
        """The line as the national platform's public search mirror serves it: its own keys
        first (invented values, the same shapes), then the record."""
        rng = self.rng
        self.mirror_ids += 1
        published = (_ordinal_of(entry["publishDate"]) - _EPOCH) * 86400 - 8 * 3600
        updated = published + rng.randint(86400, 3 * 86400)
        lastmod = date.fromordinal(_EPOCH + updated // 86400).isoformat()
        at = f"{rng.randint(0, 23):02d}:{rng.randint(0, 59):02d}:00"
        return {
            "StdStg": 6000 + rng.randint(0, 99),
            "StdStl": 8,
            "_update_time": str(updated),
            "cambrian_appid": "0",
            "changefreq": "always",
            "focusNumber": "0",
            "publishDateStamp": str(published),
            "sitelink": f"http://{_MIRROR_HOST}/",
            "type": "失信被执行人名单",
            "lastmod": f"{lastmod}T{at}",
            "loc": f"http://{_MIRROR_HOST}/detail?id=demo-{self.mirror_ids}",
            "priority": "1.0",
            "SiteId": 1000000 + rng.randint(0, 999),
            "_version": rng.randint(1, 400),
            "_select_time": updated - rng.randint(600, 7200),
            "areaNameNew": entry["areaName"],
            **entry,
        }


@cache
def _ordinal_of(text: str) -> int:
    """The day of one of the feed's own date forms (_day's), whatever day it is."""
    digits = "".join(ch for ch in text if ch.isdigit())
    return date(int(digits[:4]), int(digits[4:6]), int(digits[6:8])).toordinal()


def _date_form(text: str) -> int:
    return _CHINESE if "年" in text else _ISO if "-" in text else _COMPACT


def _old_abbreviation(court: Court, with_province: bool) -> str:
    """A court's short name in pre-2016 case numbers: 朝 or 京朝 for 朝阳区, 浙杭 for
    the intermediate court of 杭州, 京一中 for 北京市第一中级人民法院."""
    province = court.code[0]
    if court.intermediate:
        ordinal = court.name.removeprefix(court.city).removesuffix("中级人民法院")
        return f"{province}{ordinal[-1]}中" if ordinal else f"{province}{court.city_short[0]}"
    district = court.name.removesuffix("人民法院").removeprefix(court.city)
    short = f"{court.city_short[0]}{district[1]}" if district[0] == "第" else district[0]
    return f"{province}{short}" if with_province else short


def generate_events(
    count: int, seed: int, today: date | None = None, *, plain: bool = False
) -> Iterator[dict[str, Any]]:
    """``count`` publish events plus the corrections and removals that follow some of them,
    in feed order, for a feed generated on ``today`` (see ``data_range``). The same seed and
    day give the same events. Publish lines come in the national platform's real conventions
    in realistic shares (男性, ages as text, party-type codes, masked and older identifiers,
    older case numbers, placeholders, the mirror's own keys); ``plain`` writes all of them in
    our own conventions only. Both hold the same entries, changes and dates."""
    if count < 0:
        raise ValueError(f"count must not be negative, got {count}")
    events = _Feed(count, seed, today).events()
    return events if plain else _RealConventions(seed, today).apply(events)


def write_demo_file(
    path: Path,
    count: int,
    seed: int,
    today: date | None = None,
    *,
    plain: bool = False,
    progress: Progress = NO_PROGRESS,
) -> int:
    """Write the feed as UTF-8 JSON Lines; returns the number of lines written. ``progress``
    counts the entries (publish lines) written, out of ``count``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".part")  # a reader never sees half a file
    lines = 0
    batch: list[bytes] = []
    dumps = orjson.dumps
    progress.total = count
    published = 0
    with partial.open("wb") as out:
        for event in generate_events(count, seed, today, plain=plain):
            batch.append(dumps(event))
            published += event.get("op") == "publish"
            if len(batch) == 8192:
                lines += _write_batch(out, batch)
                progress.advance(published)
                published = 0
        lines += _write_batch(out, batch)
        progress.advance(published)
    partial.replace(path)
    return lines


def _write_batch(out: Any, batch: list[bytes]) -> int:
    if not batch:
        return 0
    out.write(b"\n".join(batch))
    out.write(b"\n")
    written = len(batch)
    batch.clear()
    return written


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Write a synthetic ingest feed (JSON Lines).")
    parser.add_argument("path", type=Path)
    parser.add_argument("--count", type=int, default=10_000, help="number of listed entries")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--plain", action="store_true", help="our own conventions only")
    args = parser.parse_args(argv)
    lines = write_demo_file(args.path, args.count, args.seed, plain=args.plain)
    print(f"wrote {lines} lines ({args.count} entries) to {args.path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
