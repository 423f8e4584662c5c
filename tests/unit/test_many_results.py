"""``Results`` of the many-address verbs is a ``Mapping`` of the addresses that
succeeded: every Mapping method works on it, and its ``values`` attribute (a dict, as
the README shows) stays usable as one. mypy found the attribute hiding
``Mapping.values()`` (``results.values()`` raised "'dict' object is not callable")."""

from __future__ import annotations

import pytest

from ctlshell.api import Results
from ctlshell.core import ChannelTimeoutError


def _results() -> Results[float]:
    return Results(["ca://A", "ca://B", "ca://C"], {"ca://A": 1.0, "ca://C": 3.0},
                   {"ca://B": ChannelTimeoutError("ca://B: no answer")})


def test_the_mapping_methods_give_the_successes_in_the_order_asked() -> None:
    r = _results()
    assert list(r.values()) == [1.0, 3.0]
    assert list(r.keys()) == ["ca://A", "ca://C"]
    assert list(r.items()) == [("ca://A", 1.0), ("ca://C", 3.0)]
    assert dict(r) == {"ca://A": 1.0, "ca://C": 3.0}
    assert r.get("ca://Z", "none") == "none"


def test_the_values_attribute_is_still_the_dict_of_successes() -> None:
    r = _results()
    assert r.values == {"ca://A": 1.0, "ca://C": 3.0}
    assert r.values["ca://C"] == 3.0
    assert "ca://B" not in r.values
    assert list(r.values.values()) == [1.0, 3.0]


def test_a_failed_address_raises_its_own_error() -> None:
    r = _results()
    with pytest.raises(ChannelTimeoutError, match="no answer"):
        r["ca://B"]
    with pytest.raises(KeyError):
        r["ca://Z"]
