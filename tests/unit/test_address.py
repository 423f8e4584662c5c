"""Unit tests for ctlshell.core._address: parsing ``scheme://name``."""

from __future__ import annotations

import pytest

from ctlshell.core import SCHEMES, Address, AddressError, parse_address


@pytest.mark.parametrize("scheme", SCHEMES)
def test_every_known_scheme_parses(scheme: str) -> None:
    name = "dom/fam/member/attr" if scheme == "tango" else "BL:MOTOR.RBV"
    addr = parse_address(f"{scheme}://{name}")
    assert addr == Address(scheme, name)
    assert str(addr) == f"{scheme}://{name}"


def test_schemes_are_exactly_the_documented_four() -> None:
    assert set(SCHEMES) == {"ca", "pva", "tango", "local"}


def test_bare_name_takes_default_scheme() -> None:
    assert parse_address("BL:MOTOR.RBV") == Address("ca", "BL:MOTOR.RBV")
    assert parse_address("BL:MOTOR.RBV", "pva") == Address("pva", "BL:MOTOR.RBV")
    assert parse_address("x", default_scheme="local") == Address("local", "x")


def test_bare_name_with_colons_is_not_mistaken_for_a_scheme() -> None:
    assert parse_address("SR:C01-BI{BPM:1}Pos:X-I") == Address("ca", "SR:C01-BI{BPM:1}Pos:X-I")


def test_scheme_is_case_insensitive_and_whitespace_is_stripped() -> None:
    assert parse_address("  PVA://sim:x  ") == Address("pva", "sim:x")


def test_address_instance_is_returned_unchanged() -> None:
    addr = Address("local", "foo")
    assert parse_address(addr, "ca") is addr


def test_address_is_frozen_and_orderable() -> None:
    a = parse_address("ca://a")
    with pytest.raises(AttributeError):
        a.name = "b"  # type: ignore[misc]
    assert sorted([parse_address("pva://a"), parse_address("ca://b"), parse_address("ca://a")]) == [
        Address("ca", "a"), Address("ca", "b"), Address("pva", "a")]
    assert len({parse_address("ca://a"), parse_address("a")}) == 1


def test_error_is_a_value_error() -> None:
    assert issubclass(AddressError, ValueError)
    with pytest.raises(ValueError):
        parse_address("")


@pytest.mark.parametrize("text", ["", "   ", "\t\n"])
def test_empty_address(text: str) -> None:
    with pytest.raises(AddressError, match="empty address"):
        parse_address(text)


def test_unknown_scheme_lists_known_schemes() -> None:
    with pytest.raises(AddressError) as exc:
        parse_address("http://example.com")
    msg = str(exc.value)
    assert "unknown scheme 'http'" in msg
    for s in SCHEMES:
        assert f"{s}://" in msg


def test_unknown_default_scheme_is_refused() -> None:
    with pytest.raises(AddressError, match="unknown scheme 'foo'"):
        parse_address("X", "foo")


@pytest.mark.parametrize("text", ["ca:/x", "pva:/a:b", "local:/x"])
def test_single_slash_scheme_is_malformed(text: str) -> None:
    with pytest.raises(AddressError, match=r"malformed address .*'scheme://name'"):
        parse_address(text)


@pytest.mark.parametrize("text", ["ca://", "local://  "])
def test_scheme_without_name(text: str) -> None:
    with pytest.raises(AddressError, match="has no name"):
        parse_address(text)


@pytest.mark.parametrize("text, bad", [
    ("ca://BL MOTOR", " "),
    ("ca://BL'MOTOR", "'"),
    ('ca://BL"MOTOR', '"'),
    ("ca://A,B", ","),
    ("BL\tX", "\t"),
])
def test_disallowed_characters_are_named(text: str, bad: str) -> None:
    with pytest.raises(AddressError, match="not allowed in a PV name") as exc:
        parse_address(text)
    assert repr(bad) in str(exc.value)


def test_name_length_limit() -> None:
    ok = "A" * 255
    assert parse_address(f"ca://{ok}").name == ok
    with pytest.raises(AddressError, match="256 characters long; the limit is 255"):
        parse_address("ca://" + "A" * 256)


@pytest.mark.parametrize("value", [None, 42, b"ca://x", ["ca://x"], 1.5])
def test_non_string_is_refused(value: object) -> None:
    with pytest.raises(AddressError, match=f"must be a string.*not {type(value).__name__}"):
        parse_address(value)


@pytest.mark.parametrize("name", [
    "sys/tg_test/1",
    "sys/tg_test/1/double_scalar",
    "tangohost:10000/sys/tg_test/1/double_scalar",
    "tango-cs.example.org:10000/sys/tg_test/1",
])
def test_valid_tango_paths(name: str) -> None:
    assert parse_address(f"tango://{name}") == Address("tango", name)


@pytest.mark.parametrize("name", [
    "sys/tg_test",  # too few parts
    "sys",
    "a/b/c/d/e",  # too many parts
    "sys//1",
    "/sys/tg_test/1",  # leading slash
    "sys/tg_test/1/",  # trailing slash
    "sys/tg test/1",
])
def test_bad_tango_paths(name: str) -> None:
    with pytest.raises(AddressError, match="malformed Tango address"):
        parse_address(f"tango://{name}")
