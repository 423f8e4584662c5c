"""The pure parts of completion: finding the string argument of a verb call under the
cursor, resolving the callee without running code, and the Tango name cache's
promise that a keypress never waits for a fetch (no sockets, no servers)."""

from __future__ import annotations

import statistics
import threading
import time
import types

import pytest

from ctlshell.ipython._calls import StringArgument, find_string_argument, resolve
from ctlshell.ipython._tango_names import TangoNames


@pytest.mark.parametrize(("text", "expected"), [
    ('get("DEMO:S', StringArgument("get", 0, "DEMO:S")),
    ("x = ctlshell.get('DE", StringArgument("ctlshell.get", 0, "DE")),
    ('print(api.info(  "ca://A', StringArgument("api.info", 0, "ca://A")),
    ('put("DEMO:SHUTTER", "O', StringArgument("put", 1, "O", "DEMO:SHUTTER")),
    ("put('A',\"", StringArgument("put", 1, "", "A")),
    ('foo("a") + get("D', StringArgument("get", 0, "D")),
    ('get(r"X', StringArgument("get", 0, "X")),
    ('first line\nget("Y', StringArgument("get", 0, "Y")),
    ('{}.get("DE', None),  # a method of an expression, not a name
    ('x[0].get("DE', None),
    ('get("A") ', None),  # the string is closed
    ('get("A", "B", "C', None),  # a third argument
    ('get(name, "B', None),  # the first argument is not a literal
    ('get("A\\"B', None),  # escapes are not followed
    ("get(", None),
])
def test_find_string_argument(text, expected):
    assert find_string_argument(text) == expected


class Exploding:
    """An object whose attributes must never be read."""

    def __getattr__(self, name):
        raise AssertionError(f"read {name}")


def test_resolve_reads_only_dictionaries_and_modules():
    def get(address):
        return address

    module = types.ModuleType("fake")
    module.get = get
    module.api = types.ModuleType("fake.api")
    module.api.put = get

    def lazy(name):  # a module __getattr__: never called by resolve
        raise AssertionError(name)

    module.__getattr__ = lazy
    ns = {"get": get, "cs": module, "obj": Exploding()}
    assert resolve("get", ns, [get]) is get
    assert resolve("cs.get", ns, [get]) is get
    assert resolve("cs.api.put", ns, [get]) is get
    assert resolve("cs.missing", ns, [get]) is None
    assert resolve("obj.get", ns, [get]) is None  # not a module: its attribute is never read
    assert resolve("nothing.get", ns, [get]) is None
    assert resolve("get", {"get": print}, [get]) is None  # the user's own get


def test_a_keypress_never_waits_for_a_tango_fetch():
    release = threading.Event()
    asked = []

    def slow_fetch(key):  # a database that takes its time (as one across a WAN does)
        asked.append(key)
        release.wait(30)
        if key[0] == "db":
            return ["tango://h:1/a/b/c", "tango://h:1/a/b/d"]
        return ["tango://h:1/a/b/c/attr", "tango://h:1/a/b/c->Cmd"]

    names = TangoNames(fetch=slow_fetch)
    times = []
    for _ in range(50):
        t0 = time.perf_counter()
        names.wanted("tango://h:1/a/b/")
        assert names() == []
        times.append(time.perf_counter() - t0)
    assert asked == [("db", "h:1")]  # asked once, not once per keypress
    # the fetch blocks for up to 30 s; a keypress takes microseconds (bound: 1000x that)
    assert statistics.median(times) < 0.01 and max(times) < 1.0
    names.wanted("tango://h:1/a/b/c/")  # members of a device not yet known: not asked
    release.set()
    assert names.wait(10)
    assert sorted(names()) == ["tango://h:1/a/b/c", "tango://h:1/a/b/d"]
    names.wanted("tango://h:1/a/b/c/")
    names.wanted("tango://h:1/a/b/c->")
    assert names.wait(10)
    assert asked == [("db", "h:1"), ("dev", "h:1", "a/b/c")]
    assert "tango://h:1/a/b/c->Cmd" in names()
    names.refresh(timeout=10)  # asks everything again
    assert sorted(asked[2:]) == [("db", "h:1"), ("dev", "h:1", "a/b/c")]


def test_an_unreachable_database_is_asked_again_only_after_a_while(monkeypatch):
    import ctlshell.ipython._tango_names as mod

    asked = []

    def failing(key):
        asked.append(key)
        raise OSError("connection refused")

    names = TangoNames(fetch=failing)
    for _ in range(5):
        names.wanted("tango://h:1/x")
        names.wait(10)
    assert asked == [("db", "h:1")] and names() == []
    monkeypatch.setattr(mod, "RETRY_AFTER", 0.0)
    names.wanted("tango://h:1/x")
    assert names.wait(10) and len(asked) == 2
    names.close()
    names.wanted("tango://h:2/x")
    assert names.wait(10) and len(asked) == 2  # closed: no more fetches


def test_without_tango_host_the_default_database_is_never_asked(monkeypatch):
    monkeypatch.delenv("TANGO_HOST", raising=False)
    asked = []
    names = TangoNames(fetch=lambda key: asked.append(key) or [])
    names.wanted("tango://sys/tg_test/1/")
    names.wanted("ca://NOT:TANGO")
    names.wanted("tango://127.0.0.1:5/a/b/c/x#dbase=no")  # a device server, not a database
    assert names.wait(10) and asked == []


def test_an_address_used_starts_the_fetch_of_its_database():
    from ctlshell.ipython._names import NameIndex

    asked = []
    index = NameIndex()
    tango_names = TangoNames(fetch=lambda key: asked.append(key) or ["tango://h:1/a/b/c"])
    index.add_source(tango_names)
    index.add(["tango://h:1/a/b/c/attr", "ca://X"])  # as %pv does with the addresses it used
    assert tango_names.wait(10) and asked[0] == ("db", "h:1")  # then its members, if the list came fast
    assert set(asked) <= {("db", "h:1"), ("dev", "h:1", "a/b/c")}
    assert index.complete("tango://h:1/a/") == ["tango://h:1/a/b/c", "tango://h:1/a/b/c/attr"]
