"""Examples in the list API's part of the OpenAPI document: real responses of the test app.

Times, batch ids and digests are as they came out. :mod:`portal.openapi_paths` puts them
into the operations; tests/test_openapi.py validates them against the schemas.
"""

from __future__ import annotations

from typing import Any

EXAMPLE_PERSON = {
    "id": "zw",
    "status": "corrected",
    "caseCode": "(2023)京0105执1234号",
    "iname": "张伟",
    "cardNum": "1101051980****1238",
    "courtName": "北京市朝阳区人民法院",
    "areaName": "北京",
    "partyTypeName": "自然人",
    "partyType": "person",
    "regDate": "2023-01-15",
    "publishDate": "2023-03-20",
    "validUntil": "2099-03-20",
    "severity": "一般",
    "sexy": "男",
    "age": 43,
    "businessEntity": None,
    "gistId": "(2022)京0105民初5678号",
    "gistUnit": "北京市朝阳区人民法院",
    "duty": "支付货款人民币十万元",
    "performance": "部分未履行",
    "performedPart": "已支付二万元",
    "unperformPart": "十万元",
    "disruptTypeName": "有履行能力而拒不履行生效法律文书确定义务",
}
EXAMPLE_ORG = {
    "id": "abc",
    "status": "published",
    "caseCode": "(2024)沪0115执77号",
    "iname": "上海某某科技有限公司",
    "cardNum": "91110105MA0000015F",
    "courtName": "上海市浦东新区人民法院",
    "areaName": "上海",
    "partyTypeName": "法人或其他组织",
    "partyType": "org",
    "regDate": None,
    "publishDate": "2024-05-06",
    "validUntil": "2099-05-06",
    "severity": None,
    "sexy": None,
    "age": None,
    "businessEntity": "李四",
    "gistId": None,
    "gistUnit": None,
    "duty": None,
    "performance": "全部未履行",
    "performedPart": None,
    "unperformPart": None,
    "disruptTypeName": None,
}
EXAMPLE_HISTORY = [
    {"op": "publish", "effectiveAt": "2023-03-20T00:00:00+08:00", "fields": []},
    {
        "op": "correct",
        "effectiveAt": "2026-11-23T10:18:54+08:00",
        "fields": ["performance", "performedPart"],
    },
]
EXAMPLE_INGEST = {
    "batch": "74886c1ead884b1aaa9c656397a691eb",
    "source": "api:北京市高级人民法院信息中心",
    "file": None,
    "sha256": "9c9618e86fc922c6d83f0d38c7fe666b45a5b55c1d5558e9c0c3cd73509e9d8f",
    "lines": 4,
    "accepted": 3,
    "duplicates": 0,
    "applied": 3,
    "rejected": 1,
    "warnings": 1,
    "warnedLines": 1,
    "synced": True,
    "indexLag": 0,
    "rejects": [
        {
            "line": 4,
            "code": "missing_field",
            "field": "caseCode",
            "message": "缺少必填字段 caseCode",
            "raw": '{"op":"publish","id":"bad","iname":"x"}',
        }
    ],
    "warningList": [
        {
            "line": 2,
            "field": "sexy",
            "code": "bad_sex",
            "message": "性别 sexy 应为“男”“女”“男性”或“女性”；已忽略该字段，该行其余内容照常导入",
            "value": "未知",
        }
    ],
}
EXAMPLE_INGEST_ALL_REJECTED = {
    "batch": "cdfbf77e876f4b64908c370c88e2f9a1",
    "source": "api:北京市高级人民法院信息中心",
    "file": None,
    "sha256": "d730b617f5a6d8df2956e77aa15d034ff6d226d6c3226bd05990c5e7b59973ca",
    "lines": 1,
    "accepted": 0,
    "duplicates": 0,
    "applied": 0,
    "rejected": 1,
    "warnings": 0,
    "warnedLines": 0,
    "synced": True,
    "indexLag": 0,
    "rejects": [
        {
            "line": 1,
            "code": "bad_json",
            "field": None,
            "message": "这一行不是有效的 JSON：unexpected character, expected a string key",
            "raw": "",
        }
    ],
    "warningList": [],
}
_EXAMPLE_PROBLEM = {
    "removal": 1,
    "entryId": "gone",
    "reason": "被执行人已履行义务",
    "kind": "shielded",
    "effectiveAt": "2026-11-02T10:00:00+08:00",
    "receivedAt": "2026-11-23T10:19:08+08:00",
    "deadline": "2026-11-05T23:59:59+08:00",
    "removedAt": "2026-11-23T10:19:08+08:00",
    "arrivedLate": True,
    "state": "late",
}


_EXAMPLE_REPLICA = {
    "name": "main",
    "state": "live",
    "lag": 0,
    "seenAt": "2026-11-23T10:19:08+08:00",
}


def compliance_example(*, public: bool) -> dict[str, Any]:
    problem = dict(_EXAMPLE_PROBLEM)
    if public:
        del problem["entryId"], problem["reason"]
    return {
        "generatedAt": "2026-11-23T10:19:08+08:00",
        "removals": {
            "total": 1,
            "confirmed": 1,
            "onTime": 0,
            "late": 0,
            "pending": 0,
            "overdue": 0,
            "arrivedLate": 1,
        },
        "latencySeconds": {"median": 0.007, "max": 0.007},
        "problems": [problem],
        "problemsTruncated": False,
        "replicas": [_EXAMPLE_REPLICA],
        "slowestReplica": _EXAMPLE_REPLICA,
        "warnings": [],
    }


EXAMPLE_HEALTH = {
    "store": "ok",
    "index": "ok",
    "indexBackend": "sqlite",
    "indexLag": 0,
    "indexReplica": "main",
    "replicas": [{**_EXAMPLE_REPLICA, "seenAt": "2026-11-23T10:18:55+08:00"}],
    "warnings": [],
    "checkedAt": "2026-11-23T10:18:55+08:00",
    "ok": True,
}
EXAMPLE_NDJSON = (
    '{"op":"publish","id":"zw","caseCode":"(2023)京0105执1234号","iname":"张伟",'
    '"cardNum":"1101051980****1238","courtName":"北京市朝阳区人民法院","areaName":"北京",'
    '"partyTypeName":"自然人","publishDate":"2023年03月20日","validUntil":"2099-03-20",'
    '"performance":"全部未履行"}\n'
    '{"op":"correct","id":"zw","effectiveAt":"2026-11-20T10:00:00+08:00",'
    '"fields":{"performance":"部分未履行","performedPart":"已支付二万元"}}\n'
    '{"op":"shield","id":"ls","effectiveAt":"2026-11-20T10:00:00+08:00",'
    '"reason":"被执行人已履行义务"}\n'
)
EXAMPLE_CSV = (
    "id,caseCode,iname,cardNum,courtName,areaName,partyTypeName,publishDate,validUntil\n"
    "abc,(2024)沪0115执77号,上海某某科技有限公司,91110105MA0000015F,上海市浦东新区人民法院,"
    "上海,法人或其他组织,2024-05-06,2099-05-06\n"
)
# A masked number in the request: a full ID number may not appear in the document.
EXAMPLE_MATCH_REQUEST = {
    "queries": [
        {"name": "張偉", "cardNum": "1101051980****1238", "ref": "row-1"},
        {"name": "上海某某科技有限公司", "ref": "row-2"},
        {"name": "没有这个人"},
    ]
}
EXAMPLE_MATCH_RESPONSE = {
    "results": [
        {
            "ref": "row-1",
            "name": "張偉",
            "cardNum": "1101051980****1238",
            "best": "identifier",
            "matches": [
                {
                    "kind": "identifier",
                    "maskedIdentifier": True,
                    "entry": {
                        "id": "zw",
                        "status": "published",
                        "caseCode": "(2023)京0105执1234号",
                        "iname": "张伟",
                        "cardNum": "1101051980****1238",
                        "courtName": "北京市朝阳区人民法院",
                        "areaName": "北京",
                        "partyTypeName": "自然人",
                        "partyType": "person",
                        "regDate": "2023-01-15",
                        "publishDate": "2023-03-20",
                        "validUntil": "2099-03-20",
                        "severity": "一般",
                        "sexy": "男",
                        "age": 43,
                        "businessEntity": None,
                        "gistId": "(2022)京0105民初5678号",
                        "gistUnit": "北京市朝阳区人民法院",
                        "duty": "支付货款人民币十万元",
                        "performance": "部分未履行",
                        "performedPart": "已支付二万元",
                        "unperformPart": "十万元",
                        "disruptTypeName": "有履行能力而拒不履行生效法律文书确定义务",
                    },
                },
                {
                    "kind": "partial",
                    "maskedIdentifier": False,
                    "entry": {
                        "id": "zwm",
                        "status": "published",
                        "caseCode": "(2022)京0108执55号",
                        "iname": "张伟明",
                        "cardNum": "1101081975****2346",
                        "courtName": "北京市海淀区人民法院",
                        "areaName": "北京",
                        "partyTypeName": "自然人",
                        "partyType": "person",
                        "regDate": "2023-01-15",
                        "publishDate": "2022-06-01",
                        "validUntil": "2099-06-01",
                        "severity": "一般",
                        "sexy": "男",
                        "age": 43,
                        "businessEntity": None,
                        "gistId": "(2022)京0105民初5678号",
                        "gistUnit": "北京市朝阳区人民法院",
                        "duty": "支付货款人民币十万元",
                        "performance": "全部未履行",
                        "performedPart": None,
                        "unperformPart": "十万元",
                        "disruptTypeName": "有履行能力而拒不履行生效法律文书确定义务",
                    },
                },
            ],
            "more": False,
        },
        {
            "ref": "row-2",
            "name": "上海某某科技有限公司",
            "cardNum": None,
            "best": "name",
            "matches": [
                {
                    "kind": "name",
                    "maskedIdentifier": False,
                    "entry": EXAMPLE_ORG,
                }
            ],
            "more": False,
        },
        {
            "ref": None,
            "name": "没有这个人",
            "cardNum": None,
            "best": None,
            "matches": [],
            "more": False,
        },
    ]
}


# --- For media and republishers (portal/api_exports.py) -------------------------------------

EXAMPLE_CHANGES = {
    "events": [
        {"type": "published", "id": "zw", "entry": EXAMPLE_PERSON},
        {"type": "corrected", "id": "abc", "entry": EXAMPLE_ORG},
        {
            "type": "removed",
            "id": "ls",
            "removedAt": "2026-09-30T10:00:00+08:00",
            "mustDeleteBy": "2026-10-10T23:59:59+08:00",
        },
    ],
    "next": "czEuMTI0",
    "more": False,
}
EXAMPLE_EXPORT_JSONL = (
    '{"meta":{"snapshotAt":"2026-12-02T01:00:00+00:00","cursor":"czEuMTI0","demo":false,'
    '"terms":"本名单依《最高人民法院关于公布失信被执行人名单信息的若干规定》……","termsEn":"…"}}\n'
    '{"id":"zw","status":"published","caseCode":"(2023)京0105执1234号","iname":"张伟",'
    '"cardNum":"1101051980****1238","partyTypeName":"自然人","courtName":"北京市朝阳区人民法院",'
    '"areaName":"北京","publishDate":"2023-03-20","validUntil":"2099-03-20"}\n'
)
