"""Matching forms of names, places and case numbers: what a search finds."""

from __future__ import annotations

import pytest

from search_index.normalize import (
    CaseCodeError,
    fold_width,
    is_case_code,
    name_tokens,
    normalize_case_code,
    normalize_name,
    normalize_place,
    to_simplified,
)

CANONICAL_CASE_CODE = "(2019)京0105执12345号"


def test_to_simplified_converts_traditional_names_and_courts() -> None:
    assert to_simplified("張偉") == "张伟"
    assert to_simplified("北京市朝陽區人民法院") == "北京市朝阳区人民法院"


def test_fold_width_turns_ime_letters_digits_and_space_half_width() -> None:
    assert fold_width("ＡＢＣ　ａｂｃ　１２３（）－") == "ABC abc 123()-"


def test_fold_width_leaves_chinese_alone() -> None:
    # NFKC would rewrite ㈱ to (株) and ⑴ to (1); folding must not.
    assert fold_width("张伟㈱⑴、。") == "张伟㈱⑴、。"


@pytest.mark.parametrize(
    ("published", "expected"),
    [
        (" 張　偉 ", "张伟"),
        ("北京ａｂｃ科技（集團）有限公司", "北京ABC科技(集团)有限公司"),
        ("北京abc科技【集团】有限公司", "北京ABC科技(集团)有限公司"),
        ("北京abc科技〔集团〕有限公司", "北京ABC科技(集团)有限公司"),
        ("北京abc科技[集团]有限公司", "北京ABC科技(集团)有限公司"),
        ("北京abc科技［集团］有限公司", "北京ABC科技(集团)有限公司"),
        ("张\t伟\n", "张伟"),
        ("张\u00a0伟\u200b", "张伟"),  # no-break and zero-width space from web pages
    ],
)
def test_normalize_name_matches_published_variants(published: str, expected: str) -> None:
    assert normalize_name(published) == expected


@pytest.mark.parametrize(
    "dot", ["·", "•", "・", "‧", "･", "⋅", "●", "\u00b7", "\u2022", "\u30fb", "\uff65", "\u2027"]
)
def test_normalize_name_unifies_middle_dots_in_transliterated_names(dot: str) -> None:
    assert normalize_name(f"阿不都{dot}熱合曼") == "阿不都\u00b7热合曼"


def test_normalize_name_removes_spaces_before_converting_phrases() -> None:
    # Converted with the space, OpenCC reads 乾 alone and gives 干.
    assert normalize_name("乾 隆") == "乾隆"


def test_normalize_name_upper_cases_latin_letters() -> None:
    assert normalize_name("Zhang san") == "ZHANGSAN"


def test_name_tokens_ignore_dots_spaces_and_script() -> None:
    expected = ["阿", "不", "都", "热", "合", "曼"]
    assert name_tokens("阿不都·热合曼") == expected
    assert name_tokens("阿不都热合曼") == expected
    assert name_tokens("阿不都 熱合曼") == expected


def test_name_tokens_keep_letters_and_digits_but_drop_brackets() -> None:
    assert name_tokens("北京ａｂｃ科技（集團）1号") == list("北京ABC科技集团1号")


def test_name_tokens_of_blank_name_is_empty() -> None:
    assert name_tokens(" 　·（）") == []


def test_normalize_place_matches_traditional_and_spaced_court_names() -> None:
    assert normalize_place("北京市朝陽區 人民法院") == "北京市朝阳区人民法院"
    assert normalize_place("新疆維吾爾自治區") == "新疆维吾尔自治区"


@pytest.mark.parametrize(
    "written",
    [
        "(2019)京0105执12345号",
        "（2019）京0105执12345号",
        "〔2019〕京0105执12345号",
        "[2019]京0105執12345",
        "( 2019 ) 京 0105 执 12345 号",
        "【2019】京0105执12345号",
        "（２０１９）京０１０５執１２３４５號",
        "(2019)京0105执12345号号",
    ],
)
def test_normalize_case_code_gives_one_canonical_form(written: str) -> None:
    assert normalize_case_code(written) == CANONICAL_CASE_CODE


def test_normalize_case_code_keeps_pre_2016_style() -> None:
    assert normalize_case_code("（2015）朝執字第12345號") == "(2015)朝执字第12345号"


@pytest.mark.parametrize("written", ["（2019）京0105执12345号之一", "(2019) 京0105執12345號之一"])
def test_normalize_case_code_keeps_a_sub_number(written: str) -> None:
    """Cases split off another carry its number with 之一, 之二…: a different case."""
    assert normalize_case_code(written) == "(2019)京0105执12345号之一"
    assert normalize_case_code("(2019)京0105执12345号之十二") == "(2019)京0105执12345号之十二"


@pytest.mark.parametrize(
    "bad",
    [
        "",
        "京0105执12345号",  # no year
        "2019京0105执12345号",  # year without brackets
        "(19)京0105执12345号",  # two-digit year
        "(2019)12345号",  # no court and no case type
        "(2019)京0105执号",  # no serial number
        "(2019)京0105执12345号之",  # a sub-number without its number
        "张伟",
    ],
)
def test_normalize_case_code_rejects_non_case_numbers(bad: str) -> None:
    with pytest.raises(CaseCodeError) as caught:
        normalize_case_code(bad)
    assert caught.value.code == "bad_case_code"
    assert str(caught.value) == (
        "案号格式不正确，应形如（2019）京0105执12345号或（2014）并执字第00085号"
    )
    assert isinstance(caught.value, ValueError)


def test_is_case_code_answers_without_raising() -> None:
    assert is_case_code("〔2019〕京0105执12345号")
    assert not is_case_code("(2019)12345号")
    assert not is_case_code(None)
    assert not is_case_code("(2019)" + "京" * 100_000)


@pytest.mark.parametrize(
    ("written", "canonical"),
    [
        ("2015年丰执字第08996号", "(2015)丰执字第08996号"),
        ("2015 年丰执字第08996号", "(2015)丰执字第08996号"),
        ("（2014）并执字第00085号", "(2014)并执字第00085号"),
        ("〔2015〕禹法执恢字第00008号", "(2015)禹法执恢字第00008号"),
    ],
)
def test_older_case_number_styles_keep_their_words_and_zeros(written: str, canonical: str) -> None:
    assert normalize_case_code(written) == canonical
