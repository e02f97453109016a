"""The three formats read as the shop systems write them: columns mapped, the flag that cannot
grant, line numbers, and clear refusals of a file that is not what it says."""

from __future__ import annotations

import datetime
import io

import pytest

from apps.integration.imports.formats import EcCubeFormat, GenericFormat, ShopifyFormat
from apps.integration.imports.parsing import ImportFileError
from tests.imports.files import (
    ECUBE_HEADER,
    ecube_csv,
    ecube_member,
    generic_csv,
    generic_person,
    shopify_csv,
    shopify_customer,
)


def parse(fmt, data: bytes, **kwargs):
    return list(fmt(**kwargs).rows(io.BytesIO(data)))


def test_an_ecube_shift_jis_member_csv_maps_every_column_we_keep():
    (row,) = parse(EcCubeFormat, ecube_csv([ecube_member(7, **{"郵便番号": "5300001"})]))
    assert row.line == 2 and row.external_id == "7" and not row.errors
    customer = row.customer
    assert (customer.family_name, customer.given_name) == ("山田", "花子7")
    assert (customer.family_name_kana, customer.given_name_kana) == ("ヤマダ", "ハナコ")
    assert customer.email == "member7@example.jp" and customer.phone == "0661234567"
    assert customer.date_of_birth == datetime.date(1990, 4, 1)
    assert customer.kind == "member" and customer.acquired_via == "import"
    (address,) = customer.addresses
    assert address.postal_code == "530-0001" and address.prefecture == "大阪府"
    assert (address.city, address.line1) == ("大阪市北区梅田", "1-7-1 梅田ビル")


def test_the_mail_magazine_flag_never_becomes_a_grant_and_a_no_is_a_withdrawal():
    rows = parse(
        EcCubeFormat,
        ecube_csv(
            [
                ecube_member(1, **{"メールマガジン送付について": "1"}),
                ecube_member(2, **{"メールマガジン送付について": "0"}),
                ecube_member(3, **{"メールマガジン送付について": ""}),
            ]
        ),
    )
    yes, no, blank = rows
    assert yes.consents == () and yes.grants_without_evidence == 1
    (withdrawal,) = no.consents
    assert (withdrawal.purpose, withdrawal.action, withdrawal.evidence) == (
        "newsletter",
        "withdraw",
        None,
    )
    assert blank.consents == () and blank.grants_without_evidence == 0
    assert not any(event.action == "grant" for row in rows for event in row.consents)


def test_ecube_rows_in_error_carry_their_line_number_and_column_never_the_value():
    data = ecube_csv(
        [
            ecube_member(1),
            ecube_member(2, **{"誕生日": "1990-13-45", "メールアドレス": "x"}),
            ecube_member(3, **{"会員ID": ""}),
            ecube_member(4, **{"都道府県(名称)": "", "都道府県(ID)": "99"}),
        ]
    )
    rows = parse(EcCubeFormat, data)
    assert [row.line for row in rows] == [2, 3, 4, 5]
    assert rows[0].errors == {}
    assert list(rows[1].errors) == ["誕生日"] and rows[1].customer is None
    assert "1990-13-45" not in str(rows[1].errors)
    assert list(rows[2].errors) == ["会員ID"]
    assert list(rows[3].errors) == ["都道府県(ID)"]


def test_a_multi_line_cell_does_not_shift_the_line_numbers_after_it():
    data = ecube_csv([ecube_member(1, **{"ショップ用メモ欄": "一行目\n二行目"}), ecube_member(2)])
    rows = parse(EcCubeFormat, data)
    assert [row.line for row in rows] == [2, 4]


def test_a_member_who_left_the_shop_is_skipped_not_imported():
    (row,) = parse(
        EcCubeFormat,
        ecube_csv([ecube_member(1, **{"会員ステータス(ID)": "3", "会員ステータス(名称)": "退会"})]),
    )
    assert row.skipped == "left" and row.customer is None and row.consents == ()


def test_the_prefecture_by_its_ecube_number_when_the_name_is_not_exported():
    header = [c for c in ECUBE_HEADER if c != "都道府県(名称)"]
    (row,) = parse(
        EcCubeFormat, ecube_csv([ecube_member(1, **{"都道府県(ID)": "13"})], header=header)
    )
    assert row.customer.addresses[0].prefecture == "東京都"


def test_an_ecube_export_switched_to_utf8_is_read_too():
    (row,) = parse(EcCubeFormat, ecube_csv([ecube_member(1)], encoding="utf-8"))
    assert row.customer.family_name == "山田"


def test_a_shopify_export_maps_the_id_the_province_code_and_the_marketing_column():
    rows = parse(
        ShopifyFormat,
        shopify_csv(
            [
                shopify_customer(1, **{"Accepts Email Marketing": "yes"}),
                shopify_customer(2, **{"Accepts Email Marketing": "no"}),
            ]
        ),
    )
    yes, no = rows
    assert yes.external_id == "7210448300001"  # Shopify's leading apostrophe is dropped
    customer = yes.customer
    assert (customer.family_name, customer.given_name) == ("Sato", "Taro")
    assert customer.phone == "+819012345678" and customer.kind == "guest"
    (address,) = customer.addresses
    assert (address.prefecture, address.postal_code, address.city) == (
        "東京都",
        "150-0001",
        "Shibuya-ku",
    )
    assert yes.consents == () and yes.grants_without_evidence == 1
    assert [(e.purpose, e.action) for e in no.consents] == [("newsletter", "withdraw")]


def test_a_shopify_address_abroad_is_left_out_and_the_person_kept():
    (row,) = parse(
        ShopifyFormat,
        shopify_csv(
            [
                shopify_customer(
                    1,
                    **{"Default Address Country Code": "US", "Default Address Province Code": "NY"},
                )
            ]
        ),
    )
    assert not row.errors and row.customer.addresses == ()


def test_the_generic_format_grants_only_with_every_evidence_column():
    evidence = {
        "consent_wording": "メールマガジンを受け取る",
        "consent_policy_version": "2024-04",
        "consent_source": "checkout",
        "consent_at": "2025-04-01T10:30:00+09:00",
    }
    rows = parse(
        GenericFormat,
        generic_csv(
            [
                generic_person(1, consent_newsletter="yes", **evidence),
                generic_person(2, consent_newsletter="yes", **{**evidence, "consent_wording": ""}),
                generic_person(3, consent_newsletter="no"),
            ]
        ),
        purposes={"newsletter"},
    )
    granted, no_wording, withdrawn = rows
    (grant,) = granted.consents
    assert grant.action == "grant" and grant.evidence.policy_version == "2024-04"
    assert grant.evidence.at == datetime.datetime(2025, 4, 1, 1, 30, tzinfo=datetime.UTC)
    assert no_wording.consents == () and no_wording.grants_without_evidence == 1
    assert [(e.action, e.source) for e in withdrawn.consents] == [("withdraw", "import")]


def test_a_generic_consent_column_for_an_unknown_purpose_refuses_the_file():
    header = ["external_id", "consent_telepathy"]
    with pytest.raises(ImportFileError, match="consent_telepathy"):
        parse(
            GenericFormat,
            generic_csv([{"external_id": "1"}], header=header),
            purposes={"newsletter"},
        )


def test_an_ecube_file_given_as_generic_says_what_it_looks_like():
    with pytest.raises(ImportFileError) as refused:
        parse(GenericFormat, ecube_csv([ecube_member(1)]))
    assert "EC-CUBE" in str(refused.value)


def test_a_shopify_file_given_as_ecube_names_the_missing_columns_and_the_likely_format():
    with pytest.raises(ImportFileError) as refused:
        parse(EcCubeFormat, shopify_csv([shopify_customer(1)]))
    message = str(refused.value)
    assert "会員ID" in message and "Shopify" in message
    assert "shopper1@example.com" not in message


def test_a_generic_file_that_is_not_utf8_is_refused_with_the_line():
    data = "external_id,family_name\n1,山田\n".encode("cp932")
    with pytest.raises(ImportFileError, match=r"UTF-8.*line 2"):
        parse(GenericFormat, data)


def test_an_empty_file_is_refused():
    with pytest.raises(ImportFileError, match="empty"):
        parse(EcCubeFormat, b"")


def test_broken_quoting_is_refused_with_the_line():
    data = ecube_csv([ecube_member(1)]) + '2,"山田,花子\n'.encode("cp932")
    with pytest.raises(ImportFileError, match="line 3"):
        parse(EcCubeFormat, data)


def test_rows_are_read_one_at_a_time():
    # A generator over the open file: the first row is there before the rest is read.
    data = io.BytesIO(ecube_csv([ecube_member(n) for n in range(1, 2001)]))
    rows = EcCubeFormat().rows(data)
    first = next(rows)
    assert first.external_id == "1" and data.tell() < len(data.getvalue())


def test_the_flag_as_an_id_column_in_ec_cube_2s_numbering():
    header = [c for c in ECUBE_HEADER if c != "メールマガジン送付について"] + [
        "メールマガジン送付(ID)"
    ]
    members = [
        ecube_member(1, **{"メールマガジン送付(ID)": "1"}),  # HTML
        ecube_member(2, **{"メールマガジン送付(ID)": "2"}),  # text
        ecube_member(3, **{"メールマガジン送付(ID)": "3"}),  # 希望しない
    ]
    html, text, refused = parse(EcCubeFormat, ecube_csv(members, header=header))
    assert html.grants_without_evidence == text.grants_without_evidence == 1
    assert [e.action for e in refused.consents] == ["withdraw"]
