"""Scenarios run on both sides of the Karabo oracle test: ``python karabo_scenarios.py SIDE``.

SIDE is ``karabo`` (the real ``karabo`` 2.21.2, in a venv of its own) or ``ctlshell``.
Each scenario is written once, against a small adapter (:class:`Karabo` or
:class:`Ctlshell`) that only builds values the way each side spells it; the
scenario's observations (plain JSON: bools, strings, numbers, exception names) are
printed as one JSON object, which ``tests/unit/test_karabo_oracle.py`` compares.
Imports neither side at module level, so both interpreters can run it.
"""

from __future__ import annotations

import copy
import inspect
import json
import sys
from collections.abc import Callable
from typing import Any

SCENARIOS: dict[str, Callable[[Any], Any]] = {}

#: The verbs whose signatures are compared.
VERBS = ["getDevice", "connectDevice", "disconnectDevice", "setWait", "setNoWait", "execute", "executeNoWait",
         "getProperties", "getConfiguration", "updateDevice", "getSchema", "waitUntilNew", "waitUntil", "waitWhile",
         "lock", "sleep", "background", "gather", "firstCompleted", "allCompleted", "firstException", "call",
         "callNoWait", "getDevices", "findDevices", "getServers", "findServers", "getClasses", "getTopology",
         "getInstanceInfo", "isAlive", "getDescriptors", "compareDeviceConfiguration", "minutesAgo", "hoursAgo",
         "daysAgo", "isSet", "synchronous", "instantiate", "shutdown",
         "getHistory", "getClassSchema"]
#: Keywords every ctlshell verb adds (Karabo's ``@synchronize`` adds timeout and wait too).
ADDED = {"timeout", "wait", "pvs"}


def scenario(fn: Callable[[Any], Any]) -> Callable[[Any], Any]:
    SCENARIOS[fn.__name__] = fn
    return fn


def outcome(fn: Callable[[], Any]) -> Any:
    """What ``fn()`` gives, or the name of the exception it raises."""
    try:
        return fn()
    except Exception as exc:  # the type is the observation
        return f"raises {type(exc).__name__}"


class Karabo:
    """The real Karabo's spellings."""

    def __init__(self) -> None:
        import karabo.middlelayer as ml
        from karabo.common.alarm_conditions import AlarmCondition
        from karabo.common.states import State
        from karabo.native import (BoolValue, EnumValue, Hash, MetricPrefix, NoneValue, QuantityValue,
                                   StringValue, Timestamp, Unit, daysAgo, hoursAgo, isSet, minutesAgo,
                                   unit_registry)

        self.ml = ml
        self.State, self.AlarmCondition, self.Hash, self.Timestamp = State, AlarmCondition, Hash, Timestamp
        self.Unit, self.MetricPrefix, self.isSet, self.unit = Unit, MetricPrefix, isSet, unit_registry
        self.minutesAgo, self.hoursAgo, self.daysAgo = minutesAgo, hoursAgo, daysAgo
        self._q, self._s, self._b, self._e, self._none = QuantityValue, StringValue, BoolValue, EnumValue, NoneValue

    def q(self, magnitude: Any, units: str, t: Any = None) -> Any:
        return self._q(magnitude, units, timestamp=t)

    def s(self, text: str, t: Any = None) -> Any:
        return self._s(text, timestamp=t)

    def b(self, value: bool, t: Any = None) -> Any:
        return self._b(value, timestamp=t)

    def e(self, member: Any, t: Any = None) -> Any:
        return self._e(member, timestamp=t)

    def unset(self) -> Any:
        return self._none()

    def verbs(self) -> dict[str, Any]:
        return {n: getattr(self.ml, n) for n in VERBS}

    def run_coroutine_verb(self, name: str, *args: Any, **kwargs: Any) -> Any:
        """A synchronized verb's coroutine on a plain asyncio loop (no broker needed)."""
        import asyncio

        return asyncio.run(getattr(self.ml, name).__wrapped__(*args, **kwargs))

    def completed(self, verb: str, **kwargs: Any) -> Any:
        """``verb(x=..., y=..., z=...)``: x returns 1, y sleeps 30 s, z raises ValueError after 0.5 s."""
        import asyncio

        async def x() -> int:
            return 1

        async def y() -> None:
            await asyncio.sleep(30)

        async def z() -> None:
            await asyncio.sleep(0.5)
            raise ValueError("no")

        async def main() -> Any:
            return await getattr(self.ml, verb).__wrapped__(x=x(), y=y(), z=z(), **kwargs)

        return asyncio.run(main())


class Ctlshell:
    """ctlshell's spellings (``ctlshell.karabo``)."""

    def __init__(self) -> None:
        from ctlshell import karabo
        from ctlshell.proxies import Value

        self.k, self._v = karabo, Value
        for name in ("State", "AlarmCondition", "Hash", "Timestamp", "Unit", "MetricPrefix", "isSet", "unit",
                     "minutesAgo", "hoursAgo", "daysAgo"):
            setattr(self, name, getattr(karabo, name))

    def q(self, magnitude: Any, units: str, t: Any = None) -> Any:
        return self._v(magnitude * self.unit(units), t)

    def s(self, text: str, t: Any = None) -> Any:
        return self._v(text, t)

    b = s
    e = s

    def unset(self) -> Any:
        return self._v(None)

    def verbs(self) -> dict[str, Any]:
        return {n: getattr(self.k, n) for n in VERBS}

    def run_coroutine_verb(self, name: str, *args: Any, **kwargs: Any) -> Any:
        return getattr(self.k, name)(*args, **kwargs)

    def completed(self, verb: str, **kwargs: Any) -> Any:
        import asyncio
        import logging

        logging.getLogger("ctlshell.proxies").setLevel(logging.CRITICAL)  # z's error is expected

        async def y() -> None:
            await asyncio.sleep(30)

        async def z() -> None:
            await asyncio.sleep(0.5)
            raise ValueError("no")

        async def x() -> int:
            return 1

        futures = {"x": self.k.background(x), "y": self.k.background(y), "z": self.k.background(z)}
        return getattr(self.k, verb)(**futures, **kwargs)


# -- values: units, timestamps, numpy ------------------------------------------------------------
@scenario
def arithmetic_units_and_newest_timestamp(k: Any) -> Any:
    t1, t2 = k.Timestamp(1000.0), k.Timestamp(2000.0)
    a, b = k.q(1.0, "m", t1), k.q(20.0, "mm", t2)
    total = a + b
    return [round(float(total.to("mm").magnitude), 9), total.timestamp == t2, (b + a).timestamp == t2,
            (a * 3).timestamp == t1, (3 * a).timestamp == t1, (-a).timestamp == t1, (a * 2).descriptor is None,
            outcome(lambda: type(a + k.q(1.0, "s")).__name__), bool(a > k.q(0.5, "m")),
            bool(a == k.q(1000, "mm")), str(a), list(range(k.q(3, "")))]


@scenario
def numpy_keeps_units_and_timestamp(k: Any) -> Any:
    import numpy as np

    t = k.Timestamp(50.0)
    arr = k.q(np.arange(4.0), "mm", t)
    derived = [np.sqrt(arr * arr), arr.sum(), arr[1:], np.mean(arr), arr.T, arr * 2]
    return [[d.timestamp == t for d in derived], float(np.mean(arr).magnitude), str(np.mean(arr).units),
            [float(x) for x in arr[1:].magnitude]]


# -- strings, bools, enums, State ----------------------------------------------------------------
@scenario
def strings_are_str(k: Any) -> Any:
    t = k.Timestamp(10.0)
    s = k.s("abc", t)
    return [isinstance(s, str), json.dumps(s), hash(s) == hash("abc"), s == "abc", s.upper() == "ABC",
            s.upper().timestamp == t, (s + "x").timestamp == t, type("x" + s).__name__, str(s), repr(s),
            len(s), s in {"abc"}]


@scenario
def bools(k: Any) -> Any:
    b = k.b(True, k.Timestamp(10.0))
    return [b == True, b == 1, bool(b), repr(b), str(b), outcome(lambda: b + 1), isinstance(b, int),  # noqa: E712
            int(b), float(b)]


@scenario
def enums_and_state(k: Any) -> Any:
    State = k.State
    e = k.e(State.ON, k.Timestamp(10.0))
    return [e == State.ON, e == "ON", e != State.OFF, e.value, str(e), repr(e), hash(e) == hash(State.ON),
            State("ON") is State.ON, State.MOVING.isDerivedFrom(State.CHANGING),
            State.ON.isDerivedFrom(State.MOVING), State.ON.parent.name, State.UNKNOWN.parent, len(State),
            [s.name for s in State], [s.parent.name if s.parent else None for s in State],
            State.fromString("MOVING") is State.MOVING, outcome(lambda: State("NOPE"))]


@scenario
def unset_values(k: Any) -> Any:
    n = k.unset()
    return [n == None, k.isSet(n), k.isSet(None), k.isSet(k.q(1, "m")), k.isSet(k.s(""))]  # noqa: E711


@scenario
def alarm_unit_prefix(k: Any) -> Any:
    A = k.AlarmCondition
    return [[a.value for a in A], A.returnMostSignificant([A.WARN_LOW, A.ALARM_HIGH, A.NONE]).name,
            A.WARN < A.ALARM, A.ALARM_LOW.criticalityLevel().name, A.fromString("warn") is A.WARN,
            [(u.name, u.value) for u in k.Unit], [(p.name, p.value) for p in k.MetricPrefix]]


# -- Hash -------------------------------------------------------------------------------------------
@scenario
def hash_tree_and_paths(k: Any) -> Any:
    h = k.Hash("a.b.c", 1, "a.d", 2.5, "e", "x", "f", k.Hash())
    return [isinstance(h, dict), list(h), h.paths(), h.paths(intermediate=False), h["a"]["b"]["c"], "a.b" in h,
            "a.z" in h, len(h), h.empty(), k.Hash().empty(), list(h.getKeys()), h.has("a.d"),
            outcome(lambda: h["nope"]), outcome(lambda: h["e.x"]), outcome(lambda: k.Hash("odd")),
            list(k.Hash({"x": 1, "y": 2})), repr(h), str(k.Hash("k", 1))]


@scenario
def hash_leaf_then_node(k: Any) -> Any:
    h = k.Hash()
    h["a"] = 1

    def write() -> Any:
        h["a.b"] = 2
        return h["a"]
    return [outcome(write), h["a"]]


@scenario
def hash_attributes(k: Any) -> Any:
    h = k.Hash("a", 1, "b", 2)
    h["a", "unit"] = "m"
    live = h["a", ...]
    live["tid"] = 7
    h["b", ...] = {"x": 1}
    h.setAttribute("b", "y", 2)
    h.setElement("c", 3, {"z": 0})
    data, attrs = h.getElement("c")
    del h["a", "tid"]
    return [h["a", "unit"], h.getAttribute("a", "unit"), h.getAttributes("b"), h.hasAttribute("b", "x"),
            h.hasAttribute("b", "q"), [data, attrs], h["a", ...], outcome(lambda: h["nope", "x"]),
            outcome(lambda: h["a", "nope"]), [(key, v, a) for key, v, a in h.iterall()]]


@scenario
def hash_equality(k: Any) -> Any:
    a = k.Hash("x", 1, "y.z", 2)
    b = k.Hash("x", 1, "y.z", 2)
    same_values = a == b
    b["x", "unit"] = "m"
    reordered = k.Hash("y.z", 2, "x", 1)
    reordered["x", "unit"] = "m"
    return [same_values, a == b, a.fullyEqual(b), b.fullyEqual(reordered), b == reordered, a != b,
            k.Hash("v", [1, 2]) == k.Hash("v", [1, 2])]


@scenario
def hash_pop_merge_copy(k: Any) -> Any:
    h = k.Hash("a", 1, "n.b", 2)
    h["a", "u"] = "m"
    popped = [h.pop("a"), h.pop("zz", "dflt"), outcome(lambda: h.pop("zz"))]
    other = k.Hash("n.c", 3, "d", 4)
    other["d", "q"] = 1
    h.merge(other)
    deep = h.deepcopy()
    deep["n.b"] = 99
    copied = copy.deepcopy(h)
    flat = [(p, v if not isinstance(v, dict) else "node", a) for p, v, a in k.Hash.flat_iterall(h, empty=True)]
    h.set("e", 5)
    h.erase("d")
    return [popped, h.paths(), h["n.b"], deep["n.b"], copied.fullyEqual(h) is False, flat, list(h), h.get("zz", 0)]


# -- Timestamp ----------------------------------------------------------------------------------------
@scenario
def timestamps(k: Any) -> Any:
    T = k.Timestamp
    t1 = T(10**18)  # one second after the epoch, in attoseconds
    t2 = T(10**18 + 10**9)  # a nanosecond later
    t = T(1700000000.25)
    t.tid = 42
    parsed = T("2020-01-02T03:04:05 UTC")
    return [t1 == t2, t1 < t2, t2 - t1 > 0, T(5.0).toTimestamp(), repr(T(1700000000.5)), repr(parsed),
            int(t.tid), int(T().tid), {key: int(v) for key, v in t.toDict().items()}, int(t.time_sec),
            int(t.time_frac), outcome(lambda: t1 == 1.0), outcome(lambda: t1 < 1.0), outcome(lambda: T([1])),
            T(t) == t, T.fromHashAttributes({"sec": 5, "frac": 7, "tid": 3}).time,
            T.fromHashAttributes({}) is None, k.minutesAgo(1) < T(), k.hoursAgo(1) < k.minutesAgo(1),
            k.daysAgo(1) < k.hoursAgo(1), round(T(100.0) + 5, 6), round(T(100.0) - T(40.0), 6)]


# -- verbs: signatures and the return values that need no broker ----------------------------------------
@scenario
def verb_signatures(k: Any) -> Any:
    """Each verb's parameters: position (positional ones), name for keyword-only ones, and
    default; without the keywords every ctlshell verb adds (:data:`ADDED`)."""
    return {name: describe(list(inspect.signature(fn).parameters.values())) for name, fn in k.verbs().items()}


def describe(params: list[inspect.Parameter]) -> list[Any]:
    out: list[Any] = []
    for i, p in enumerate(params):
        default = None if p.default is inspect.Parameter.empty else repr(p.default)
        if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD):
            out.append(["positional", i, default])
        elif p.kind is p.VAR_POSITIONAL:
            out.append(["*args"])
        elif p.kind is p.KEYWORD_ONLY:
            if p.name not in ADDED:
                out.append(["keyword", p.name, default])
        else:
            out.append(["**kwargs"])
    return out


@scenario
def verb_results(k: Any) -> Any:
    return [k.run_coroutine_verb("sleep", 0.01, "result"), k.run_coroutine_verb("sleep", 0.01)]


@scenario
def all_completed_and_first_exception(k: Any) -> Any:
    def shape(result: Any) -> Any:
        done, pending, errors = result
        return [done, sorted(pending), {key: type(e).__name__ for key, e in errors.items()}]

    return [shape(k.completed("allCompleted", timeout=1.0)), shape(k.completed("firstException")),
            shape(k.completed("firstCompleted")), shape(k.completed("firstCompleted", cancel_pending=False))[1]]


@scenario
def waits_return_none(k: Any) -> Any:
    return [k.run_coroutine_verb("waitUntil", lambda: True), k.run_coroutine_verb("waitWhile", lambda: False)]


@scenario
def in_place_operators(k: Any) -> Any:
    """A deliberate difference (ADR 0008): ctlshell's ``x += 1`` keeps x's timestamp."""
    x = k.q(5.0, "", k.Timestamp(10.0))
    x += 1.0
    return [float(x.magnitude), x.timestamp == k.Timestamp(10.0)]


def main(side: str) -> None:
    adapter = Karabo() if side == "karabo" else Ctlshell()
    results = {}
    for name, fn in SCENARIOS.items():
        try:
            results[name] = json.loads(json.dumps(fn(adapter), default=repr))
        except Exception as exc:  # a scenario that breaks on one side is a difference too
            results[name] = f"scenario failed: {type(exc).__name__}: {exc}"
    print(json.dumps(results))


if __name__ == "__main__":
    main(sys.argv[1])
