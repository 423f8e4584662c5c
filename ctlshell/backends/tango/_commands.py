"""Pure checks of Tango command arguments against the command's declared input type.

Takes a ``CommandInfo``-like object (``in_type``, ``out_type`` as ints) by duck
typing; returns the argument as pytango sends it or raises ValidationError.
"""

from __future__ import annotations

from typing import Any

from ...core import CommandInfo, ValidationError
from ._convert import STATES, to_value
from ._encoded import check_encoded
from ._types import ARRAY_OF, TYPES, check_array, check_scalar

__all__ = ["check_argument", "to_command_info", "to_result", "type_name"]

_SPECIAL = {0: "void", 17: "DevVarLongStringArray", 18: "DevVarDoubleStringArray", 19: "DevState",
            28: "DevEncoded"}


def type_name(code: int) -> str:
    """A readable name of a Tango argument type."""
    if code in _SPECIAL:
        return _SPECIAL[code]
    if code in ARRAY_OF:
        return f"{TYPES[ARRAY_OF[code]].name}[]"
    t = TYPES.get(code)
    return t.name if t is not None else f"type {code}"


def to_command_info(name: str, info: Any) -> CommandInfo:
    """A pytango ``CommandInfo`` as ctlshell's :class:`~ctlshell.core.CommandInfo`."""
    return CommandInfo(name, type_name(int(info.in_type)), type_name(int(info.out_type)),
                       str(info.in_type_desc or ""), str(info.out_type_desc or ""))


def check_argument(argument: Any, in_type: int, where: str) -> Any:
    """``argument`` as pytango sends it to a command whose input type is ``in_type``.

    Raises
    ------
    ValidationError
        The argument does not match the type (a missing or superfluous argument, a
        string for a number, a number out of range, ...).
    """
    if in_type == 0:
        if argument is not None:
            raise ValidationError(f"{where} takes no argument, got {argument!r}")
        return None
    if argument is None:
        raise ValidationError(f"{where} needs an argument of type {type_name(in_type)}")
    if in_type in ARRAY_OF:
        return check_array(argument, TYPES[ARRAY_OF[in_type]], where, ndim=1)
    if in_type in (17, 18):
        numbers_type = TYPES[3 if in_type == 17 else 5]
        try:
            numbers, strings = argument
        except (TypeError, ValueError):
            raise ValidationError(f"{where} needs a pair (numbers, strings) for {type_name(in_type)}") from None
        return [check_array(numbers, numbers_type, where, ndim=1), check_array(strings, TYPES[8], where, ndim=1)]
    if in_type == 28:
        return check_encoded(argument, where)
    if in_type == 19:  # DevState: by label (or its number)
        if isinstance(argument, str) and argument.upper() in STATES:
            return STATES.index(argument.upper())
        if isinstance(argument, int) and not isinstance(argument, bool) and 0 <= argument < len(STATES):
            return argument
        raise ValidationError(f"{where}: {argument!r} is not a Tango state (one of {', '.join(STATES)})")
    t = TYPES.get(in_type)
    if t is None or t.kind == "other":
        raise ValidationError(f"{where}: arguments of type {type_name(in_type)} are not supported by ctlshell")
    if t.kind == "enum":  # a command's enum labels are not in its CommandInfo: the index
        if isinstance(argument, int) and not isinstance(argument, bool) and 0 <= argument <= t.high:
            return argument
        raise ValidationError(f"{where}: a DevEnum argument is its index (an int), got {argument!r}")
    return check_scalar(argument, t, where)


def to_result(value: Any, out_type: int) -> Any:
    """A command's result as a plain Python value (read-only arrays, tuples for lists)."""
    return to_value(value, out_type)
