"""ID numbers, credit codes and organization codes: validation, masking and keyed hashing."""

from __future__ import annotations

import pytest

from search_index.identifiers import (
    IdentifierError,
    IdentifierKind,
    classify_identifier,
    credit_code_check_char,
    display_form,
    for_party,
    id_check_char,
    is_masked_id,
    is_valid_credit_code,
    is_valid_id_number,
    is_valid_org_code,
    keyed_hash,
    mask_id_number,
    masked_form,
    normalize_identifier,
    org_code_check_char,
    upgrade_id15,
)

# The worked example of GB 11643-1999.
STANDARD_ID = "11010519491231002X"
# Real unified social credit codes: a Fuzhou company, a Beijing company, and Huawei's
# all-digit code (older organization codes had no letters).
CREDIT_CODES = ["91350100M000100Y43", "91110000802100433B", "914403001922038216"]


def test_normalize_identifier_folds_width_strips_separators_and_upper_cases() -> None:
    assert normalize_identifier(" １１０１０５ 19491231 002ｘ ") == STANDARD_ID
    assert normalize_identifier("D2143569-x") == "D2143569X"
    assert normalize_identifier("3423011964＊＊＊＊3224") == "3423011964****3224"


def test_id_check_char_of_the_standard_examples() -> None:
    assert id_check_char("11010519491231002") == "X"
    assert id_check_char("34230119640915322") == "2"
    with pytest.raises(ValueError):
        id_check_char("1101051949123100")


@pytest.mark.parametrize(
    "valid", [STANDARD_ID, "11010519491231002x", "342301196409153222", "440304198503151231"]
)
def test_valid_id_numbers(valid: str) -> None:
    assert is_valid_id_number(valid)


@pytest.mark.parametrize(
    "invalid",
    [
        "110105194912310021",  # wrong check digit
        "440524188001010014",  # GB 11643 example, checksum fine but born before 1900
        "110105202912310027",  # checksum fine, born in the future
        "000000194912310027",  # checksum fine, no region
        "11010519491231002",
        "1101051949123100XX",
    ],
)
def test_invalid_id_numbers(invalid: str) -> None:
    assert not is_valid_id_number(invalid)


def test_mask_id_number_hides_birth_month_and_day() -> None:
    assert mask_id_number("342301196409153224") == "3423011964****3224"
    assert mask_id_number("11010519491231002x") == "1101051949****002X"


def test_mask_id_number_refuses_what_it_cannot_mask() -> None:
    with pytest.raises(IdentifierError):
        mask_id_number("91350100M000100Y43")


def test_is_masked_id_recognizes_the_platform_form() -> None:
    assert is_masked_id("3423011964****3224")
    assert is_masked_id("3423011964＊＊＊＊322x")
    assert not is_masked_id("342301196409153224")
    assert not is_masked_id("342301****09153224")


@pytest.mark.parametrize("code", CREDIT_CODES)
def test_real_credit_codes_are_valid(code: str) -> None:
    assert is_valid_credit_code(code)
    assert credit_code_check_char(code[:17]) == code[17]


def test_credit_code_with_wrong_last_char_is_invalid() -> None:
    assert not is_valid_credit_code("91350100M000100Y44")
    assert not is_valid_credit_code("91110000802100433C")


def test_credit_code_check_zero_when_sum_is_a_multiple_of_31() -> None:
    # A body whose weighted sum is divisible by 31 gets "0", not the out-of-range 31.
    assert credit_code_check_char("00000000000000000") == "0"


def test_credit_code_rejects_letters_outside_its_charset() -> None:
    assert not is_valid_credit_code("91350100M0001OOY43")
    with pytest.raises(ValueError):
        credit_code_check_char("91350100M0001OOY4")


def test_org_code_check_char_and_validation() -> None:
    assert org_code_check_char("D2143569") == "X"
    assert org_code_check_char("M000100Y") == "4"  # embedded in 91350100M000100Y43
    assert org_code_check_char("80210043") == "3"  # embedded in 91110000802100433B
    assert is_valid_org_code("D2143569-X")
    assert is_valid_org_code("802100433")
    assert not is_valid_org_code("802100434")
    assert not is_valid_org_code("80210043")


@pytest.mark.parametrize(
    ("raw", "kind", "normalized"),
    [
        (STANDARD_ID.lower(), IdentifierKind.ID_NUMBER, STANDARD_ID),
        ("3423011964****3224", IdentifierKind.MASKED_ID, "3423011964****3224"),
        ("９１３５０１００Ｍ０００１００Ｙ４３", IdentifierKind.CREDIT_CODE, "91350100M000100Y43"),
        ("914403001922038216", IdentifierKind.CREDIT_CODE, "914403001922038216"),
        ("80210043-3", IdentifierKind.ORG_CODE, "802100433"),
    ],
)
def test_classify_identifier(raw: str, kind: IdentifierKind, normalized: str) -> None:
    assert classify_identifier(raw) == (kind, normalized)


@pytest.mark.parametrize(
    ("raw", "code", "message"),
    [
        ("110105194912310021", "bad_id_checksum", "身份证号码校验位不正确，请逐位核对"),
        (
            "440524188001010014",
            "bad_id_birthdate",
            "身份证号码中的出生日期（第7至14位）不是有效日期",
        ),
        (
            "91350100M000100Y44",
            "bad_credit_code_checksum",
            "统一社会信用代码校验位不正确，请逐位核对",
        ),
        ("80210043-4", "bad_org_code_checksum", "组织机构代码校验位不正确，请逐位核对"),
        (
            "张三",
            "unrecognized_identifier",
            "无法识别的证件号码：应为18位或15位身份证号、统一社会信用代码或组织机构代码",
        ),
        (
            "1234567",
            "unrecognized_identifier",
            "无法识别的证件号码：应为18位或15位身份证号、统一社会信用代码或组织机构代码",
        ),
    ],
)
def test_classify_identifier_explains_the_mistake(raw: str, code: str, message: str) -> None:
    with pytest.raises(IdentifierError) as caught:
        classify_identifier(raw)
    assert caught.value.code == code
    assert caught.value.message == message
    assert str(caught.value) == message


def test_mistyped_id_number_is_not_taken_for_a_credit_code() -> None:
    # 342301196409153222 with the birth day mistyped happens to pass the credit-code checksum.
    mistyped = "342301196409053222"
    assert is_valid_credit_code(mistyped)
    with pytest.raises(IdentifierError) as caught:
        classify_identifier(mistyped)
    assert caught.value.code == "bad_id_checksum"


def test_classify_identifier_points_at_letter_o_typed_for_zero() -> None:
    with pytest.raises(IdentifierError) as caught:
        classify_identifier("91350100MOOO100Y43")
    assert caught.value.code == "bad_credit_code_charset"


def test_keyed_hash_is_deterministic_short_hex_and_depends_on_key() -> None:
    first = keyed_hash("secret-a", STANDARD_ID)
    assert first == keyed_hash("secret-a", STANDARD_ID)
    assert len(first) == 32
    assert int(first, 16) >= 0
    assert first != keyed_hash("secret-b", STANDARD_ID)
    assert first != keyed_hash("secret-a", "342301196409153222")


def test_keyed_hash_refuses_an_empty_key() -> None:
    with pytest.raises(ValueError):
        keyed_hash("", STANDARD_ID)


def test_display_form_never_shows_a_full_id_number() -> None:
    assert display_form(IdentifierKind.ID_NUMBER, "342301196409153224") == "3423011964****3224"
    assert display_form(IdentifierKind.CREDIT_CODE, "91350100M000100Y43") == "91350100M000100Y43"
    assert display_form(IdentifierKind.MASKED_ID, "3423011964****3224") == "3423011964****3224"


# Forms real records carry (issue 10)


def test_older_masked_ids_of_11_4_4_read_as_the_10_4_4_form() -> None:
    assert classify_identifier("41072619780****1211") == (
        IdentifierKind.MASKED_ID,
        "4107261978****1211",
    )
    assert classify_identifier("41072619780****121x")[1] == "4107261978****121X"


def test_masked_credit_codes_are_organization_identifiers() -> None:
    assert classify_identifier("9114082306****333G") == (
        IdentifierKind.MASKED_CREDIT_CODE,
        "9114082306****333G",
    )
    # Digits only, but no province starts with 91: a credit code.
    assert classify_identifier("9141042155****5884")[0] is IdentifierKind.MASKED_CREDIT_CODE


def test_a_digits_only_mask_is_read_by_the_party_it_belongs_to() -> None:
    # 11 is Beijing and also the code of organizations registered by 机构编制 authorities.
    kind, normalized = classify_identifier("1101051980****0013")
    assert kind is IdentifierKind.MASKED_ID
    assert for_party(kind, normalized, person=False) is IdentifierKind.MASKED_CREDIT_CODE
    assert for_party(kind, normalized, person=True) is IdentifierKind.MASKED_ID
    credit, code = classify_identifier("9114082306****333G")
    assert for_party(credit, code, person=True) is IdentifierKind.MASKED_CREDIT_CODE  # letters


def test_15_digit_ids_read_as_their_18_digit_form() -> None:
    # 110105 491231 002 became 110105 19491231 002 X (the GB 11643-1999 example).
    assert upgrade_id15("110105491231002") == STANDARD_ID
    assert classify_identifier("110105491231002") == (IdentifierKind.ID_NUMBER, STANDARD_ID)
    assert mask_id_number("110105491231002") == "1101051949****002X"


@pytest.mark.parametrize(
    ("raw", "code"), [("110105491331002", "bad_id_birthdate"), ("000000491231002", "bad_id_region")]
)
def test_impossible_15_digit_ids_are_explained(raw: str, code: str) -> None:
    with pytest.raises(IdentifierError) as caught:
        classify_identifier(raw)
    assert caught.value.code == code


def test_a_masked_15_digit_number_is_a_masked_id() -> None:
    assert classify_identifier("11010549****002") == (IdentifierKind.MASKED_ID, "11010549****002")


def test_organization_codes_with_or_without_hyphen_are_the_same() -> None:
    code = "D2143569X"
    assert classify_identifier("D2143569-x") == classify_identifier(code)
    assert classify_identifier(code) == (IdentifierKind.ORG_CODE, code)


def test_masked_form_is_what_the_platform_shows() -> None:
    assert masked_form(IdentifierKind.ID_NUMBER, STANDARD_ID) == "1101051949****002X"
    assert masked_form(IdentifierKind.CREDIT_CODE, CREDIT_CODES[0]) == "91350100M0****0Y43"
    assert masked_form(IdentifierKind.ORG_CODE, "D2143569X") is None
