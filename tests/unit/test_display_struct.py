"""A structure (a PVA structure read whole) or any sized iterable is shown, never an error."""

from ctlshell.core import format_value


def test_structures_and_iterables_are_formatted():
    assert format_value({"x": 1.5, "a": {"b": 2}}, None) == "{x=1.5, a={b=2}}"
    assert format_value((1, 2, 3), None) == "[1, 2, 3]"
    assert format_value({1, 2}, None).startswith("[")
