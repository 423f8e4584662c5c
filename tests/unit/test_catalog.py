"""Unit tests for ctlshell.host._catalog: item descriptions checked and turned into Metadata."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from ctlshell.core import ValidationError
from ctlshell.host._catalog import ItemSpec, load_catalog, parse_catalog, parse_item


# -- one item per type ---------------------------------------------------------------
def test_numeric_full_description() -> None:
    spec = parse_item("temp", {"type": "numeric", "units": "K", "format": "%.2f", "initial": 295,
                               "limits": [4, 500], "alarm_limits": [10, 400], "warning_limits": [20, 350],
                               "persist": True, "settable": True, "description": "cold head"})
    assert isinstance(spec, ItemSpec)
    assert (spec.key, spec.kind, spec.persist, spec.settable) == ("temp", "numeric", True, True)
    meta = spec.metadata
    assert (meta.dtype, meta.count, meta.units, meta.precision) == ("double", 1, "K", 2)
    assert meta.control_limits == (4.0, 500.0)
    assert meta.alarm_limits == (10.0, 400.0)
    assert meta.warning_limits == (20.0, 350.0)
    assert meta.description == "cold head"
    assert meta.access == "rw" and meta.choices is None
    assert spec.initial == 295.0 and type(spec.initial) is float


def test_defaults_are_a_writable_numeric_zero() -> None:
    spec = parse_item("x", {})
    assert spec.kind == "numeric"
    assert spec.metadata.dtype == "double"
    assert spec.initial == 0.0
    assert (spec.persist, spec.settable, spec.metadata.access) == (False, True, "rw")
    assert spec.metadata.units == "" and spec.metadata.precision is None
    assert spec.metadata.control_limits is None


def test_integer() -> None:
    spec = parse_item("n", {"type": "integer", "initial": 7, "limits": [0, 10]})
    assert spec.metadata.dtype == "long"
    assert spec.initial == 7 and type(spec.initial) is int
    assert parse_item("n", {"type": "integer"}).initial == 0


def test_integer_refuses_a_fractional_initial() -> None:
    with pytest.raises(ValidationError, match="item 'n'.*initial"):
        parse_item("n", {"type": "integer", "initial": 2.5})


def test_numeric_array_from_count() -> None:
    spec = parse_item("wave", {"type": "numeric array", "count": 4})
    assert spec.metadata.dtype == "double" and spec.metadata.count == 4
    assert isinstance(spec.initial, np.ndarray)
    np.testing.assert_array_equal(spec.initial, np.zeros(4))


def test_numeric_array_length_from_initial() -> None:
    spec = parse_item("wave", {"type": "numeric array", "initial": [1, 2, 3]})
    assert spec.metadata.count == 3
    np.testing.assert_array_equal(spec.initial, [1.0, 2.0, 3.0])
    assert spec.initial.dtype == np.float64


def test_numeric_array_initial_longer_than_count_is_refused() -> None:
    with pytest.raises(ValidationError, match="item 'wave'.*initial"):
        parse_item("wave", {"type": "numeric array", "count": 2, "initial": [1, 2, 3]})


@pytest.mark.parametrize("desc", [{"type": "numeric array"},
                                  {"type": "numeric array", "initial": []},
                                  {"type": "numeric array", "count": 0}])
def test_numeric_array_needs_count_or_initial(desc: dict) -> None:
    with pytest.raises(ValidationError, match="item 'wave'.*'count'"):
        parse_item("wave", desc)


def test_boolean_has_false_true_choices() -> None:
    spec = parse_item("on", {"type": "boolean"})
    assert spec.metadata.dtype == "enum"
    assert spec.metadata.choices == ("False", "True")
    assert spec.initial == 0
    assert parse_item("on", {"type": "boolean", "initial": "True"}).initial == 1
    assert parse_item("on", {"type": "boolean", "initial": 1}).initial == 1


@pytest.mark.parametrize(("initial", "index"), [(True, 1), (False, 0)])
def test_boolean_accepts_a_json_boolean_initial(initial: bool, index: int) -> None:
    spec = load_catalog(json.loads(json.dumps({"on": {"type": "boolean", "initial": initial}})))
    assert spec["on"].initial == index


def test_enumerated_from_list() -> None:
    spec = parse_item("mode", {"type": "enumerated", "enumerators": ["Off", "On", "Auto"], "initial": "Auto"})
    assert spec.metadata.dtype == "enum"
    assert spec.metadata.choices == ("Off", "On", "Auto")
    assert spec.initial == 2


def test_enumerated_from_dict_with_string_keys_in_any_order() -> None:
    spec = parse_item("mode", {"type": "enumerated", "enumerators": {"1": "On", "0": "Off"}, "initial": 1})
    assert spec.metadata.choices == ("Off", "On")
    assert spec.initial == 1


def test_enumerated_needs_enumerators() -> None:
    with pytest.raises(ValidationError, match="item 'mode'.*'enumerators'"):
        parse_item("mode", {"type": "enumerated"})


@pytest.mark.parametrize("enumerators", [{"a": "Off", "b": "On"}, {"0": "Off", "x": "On"}])
def test_enumerator_keys_must_be_integers(enumerators: dict) -> None:
    with pytest.raises(ValidationError, match="item 'mode'.*enumerator keys must be integers"):
        parse_item("mode", {"type": "enumerated", "enumerators": enumerators})


@pytest.mark.parametrize("enumerators", [{"0": "Off", "2": "On"}, {"1": "Off", "2": "On"}, {"-1": "x", "0": "y"}])
def test_enumerator_keys_must_be_0_to_n_minus_1(enumerators: dict) -> None:
    with pytest.raises(ValidationError, match=r"item 'mode'.*0\.\.N-1"):
        parse_item("mode", {"type": "enumerated", "enumerators": enumerators})


def test_duplicate_enumerator_keys_are_refused() -> None:
    with pytest.raises(ValidationError, match="item 'mode'"):
        parse_item("mode", {"type": "enumerated", "enumerators": {"0": "Off", "00": "On", "1": "Auto"}})


def test_sixteen_enumerators_of_25_characters_fit() -> None:
    choices = [f"{i:02d}".ljust(25, "x") for i in range(16)]
    spec = parse_item("mode", {"type": "enumerated", "enumerators": choices})
    assert spec.metadata.choices == tuple(choices)


@pytest.mark.parametrize("enumerators", [[f"c{i}" for i in range(17)], ["ok", "x" * 26], []])
def test_too_many_too_long_or_no_enumerators(enumerators: list) -> None:
    with pytest.raises(ValidationError, match="item 'mode'.*1 to 16 enumerators"):
        parse_item("mode", {"type": "enumerated", "enumerators": enumerators})


def test_enumerators_as_a_string_is_refused() -> None:
    with pytest.raises(ValidationError, match="item 'mode'.*enumerators"):
        parse_item("mode", {"type": "enumerated", "enumerators": "Off On"})


def test_enumerators_as_a_number_is_a_validation_error() -> None:
    with pytest.raises(ValidationError, match="item 'mode'.*enumerators"):
        parse_item("mode", {"type": "enumerated", "enumerators": 3})


def test_string() -> None:
    spec = parse_item("name", {"type": "string", "initial": "hello", "settable": False})
    assert spec.metadata.dtype == "string"
    assert spec.initial == "hello"
    assert spec.settable is False and spec.metadata.access == "r"
    assert parse_item("name", {"type": "string"}).initial == ""


def test_string_too_long_initial_is_refused() -> None:
    with pytest.raises(ValidationError, match="item 'name'.*initial"):
        parse_item("name", {"type": "string", "initial": "x" * 60})


# -- fields --------------------------------------------------------------------------
def test_units_as_mktl_mapping() -> None:
    assert parse_item("t", {"units": {"": "K", "C": "degC"}}).metadata.units == "K"
    assert parse_item("t", {"units": {"C": "degC"}}).metadata.units == ""
    assert parse_item("t", {"units": None}).metadata.units == ""


@pytest.mark.parametrize(("fmt", "precision"), [("%.2f", 2), ("%8.3e", 3), ("%-10.0f", 0), ("%.4g", 4),
                                                ("%d", None), ("%s", None), ("", None), ("T=%.1f K", 1)])
def test_format_gives_precision(fmt: str, precision: int | None) -> None:
    assert parse_item("t", {"format": fmt}).metadata.precision == precision


def test_settable_false_makes_it_read_only() -> None:
    spec = parse_item("t", {"settable": False})
    assert spec.settable is False
    assert spec.metadata.access == "r" and not spec.metadata.writable


def test_gettable_is_accepted() -> None:
    assert parse_item("t", {"gettable": True}).kind == "numeric"


def test_unknown_field_is_named() -> None:
    with pytest.raises(ValidationError, match=r"item 'temp': unknown field\(s\) \['unit'\]"):
        parse_item("temp", {"type": "numeric", "unit": "K"})


def test_bad_type_is_named() -> None:
    with pytest.raises(ValidationError, match="item 'temp': type 'float' is not one of"):
        parse_item("temp", {"type": "float"})


def test_description_must_be_a_mapping() -> None:
    with pytest.raises(ValidationError, match="item 'temp': description must be a mapping, not list"):
        parse_item("temp", [1, 2])  # type: ignore[arg-type]


@pytest.mark.parametrize(("initial", "limits"), [(600, [4, 500]), (1, [4, 500]), (float("nan"), [4, 500])])
def test_initial_outside_limits_is_refused(initial: float, limits: list) -> None:
    with pytest.raises(ValidationError, match="item 'temp': initial value refused.*control limits"):
        parse_item("temp", {"initial": initial, "limits": limits})


def test_initial_on_a_limit_is_accepted() -> None:
    assert parse_item("temp", {"initial": 500, "limits": [4, 500]}).initial == 500.0


@pytest.mark.parametrize("field", ["limits", "alarm_limits", "warning_limits"])
@pytest.mark.parametrize("value", [5, [1, 2, 3], ["a", "b"], [1]])
def test_limits_must_be_a_pair(field: str, value: object) -> None:
    with pytest.raises(ValidationError, match=f"item 'temp': {field} must be \\[low, high\\]"):
        parse_item("temp", {field: value})


@pytest.mark.parametrize("field", ["limits", "alarm_limits", "warning_limits"])
def test_limits_low_above_high(field: str) -> None:
    with pytest.raises(ValidationError, match=f"item 'temp': {field} low 9.0 is above high 1.0"):
        parse_item("temp", {field: [9, 1]})


def test_limits_as_a_string_is_refused() -> None:
    with pytest.raises(ValidationError, match="item 'temp': limits"):
        parse_item("temp", {"limits": "19", "initial": 5})


def test_bad_count_is_a_validation_error_naming_the_item() -> None:
    with pytest.raises(ValidationError, match="item 'wave'.*count"):
        parse_item("wave", {"type": "numeric array", "count": "ten"})


def test_scalar_initial_of_numeric_array_is_a_validation_error() -> None:
    with pytest.raises(ValidationError, match="item 'wave'"):
        parse_item("wave", {"type": "numeric array", "initial": 5})


# -- whole catalogs ------------------------------------------------------------------
CATALOG = {
    "temp": {"type": "numeric", "units": {"": "K"}, "format": "%.1f", "initial": 295, "limits": [4, 500],
             "persist": True},
    "mode": {"type": "enumerated", "enumerators": {"0": "Off", "1": "On"}, "initial": "On"},
    "label": {"type": "string", "initial": "cryo", "settable": False},
    "wave": {"type": "numeric array", "count": 8},
}


def test_parse_catalog() -> None:
    specs = parse_catalog(CATALOG)
    assert list(specs) == ["temp", "mode", "label", "wave"]
    assert all(specs[k].key == k for k in specs)
    assert specs["temp"].metadata.units == "K" and specs["temp"].metadata.precision == 1
    assert specs["mode"].initial == 1
    assert specs["label"].metadata.access == "r"
    assert specs["wave"].metadata.count == 8


def test_one_bad_item_fails_the_catalog_naming_it() -> None:
    bad = dict(CATALOG, broken={"type": "numeric", "limits": [1, 2], "initial": 3})
    with pytest.raises(ValidationError, match="item 'broken'"):
        parse_catalog(bad)


@pytest.mark.parametrize("key", ["", "has space", "tab\there", 5])
def test_bad_item_keys(key: object) -> None:
    with pytest.raises(ValidationError, match="must be a non-empty name without spaces"):
        parse_catalog({key: {}})


def test_catalog_must_be_a_mapping() -> None:
    with pytest.raises(ValidationError, match="not list"):
        parse_catalog([{"type": "numeric"}])  # type: ignore[arg-type]


def test_empty_catalog() -> None:
    assert parse_catalog({}) == {}


def test_load_catalog_from_mapping_and_file(tmp_path: Path) -> None:
    path = tmp_path / "cat.json"
    path.write_text(json.dumps(CATALOG))
    from_file = load_catalog(path)
    from_str = load_catalog(str(path))
    from_map = load_catalog(CATALOG)
    assert list(from_file) == list(CATALOG)
    for key in CATALOG:
        assert from_file[key].metadata == from_map[key].metadata == from_str[key].metadata
    assert from_file["temp"].initial == 295.0


def test_load_catalog_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "nope.json"
    with pytest.raises(ValidationError, match=f"catalog {path}: No such file"):
        load_catalog(path)


def test_load_catalog_invalid_json(tmp_path: Path) -> None:
    path = tmp_path / "bad.json"
    path.write_text('{"temp": {"type": "numeric",}}')
    with pytest.raises(ValidationError, match=f"catalog {path}: not valid JSON"):
        load_catalog(path)


def test_load_catalog_file_with_a_bad_item_names_item_and_field(tmp_path: Path) -> None:
    path = tmp_path / "cat.json"
    path.write_text(json.dumps({"temp": {"type": "numeric", "colour": "red"}}))
    with pytest.raises(ValidationError, match=r"item 'temp': unknown field\(s\) \['colour'\]"):
        load_catalog(path)


def test_load_catalog_json_that_is_not_an_object(tmp_path: Path) -> None:
    path = tmp_path / "list.json"
    path.write_text("[1, 2]")
    with pytest.raises(ValidationError, match="a catalog is a mapping"):
        load_catalog(path)
