"""Computed fields without code: NXSDataWriter's PYEVAL results (``ds.r = ds.a / ds.b``)
checked against a small grammar and evaluated by a tree walker over numpy values.

Allowed: numbers, the inputs (``ds.NAME`` or ``NAME``), ``+ - * / // % **``, unary
``-``/``+``, parentheses and the functions in :data:`FUNCTIONS`. Anything else --
attribute access other than ``ds.NAME``, subscripts, calls of anything else, names
that are not inputs, ``import``, lambdas, comprehensions, several statements -- is
refused when the configuration is parsed, never run. Arithmetic errors (division by
zero, overflow, invalid values) refuse the record instead of storing inf or NaN.
Pure: ``ast`` and numpy only.
"""

from __future__ import annotations

import ast
import operator
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..core import ValidationError

__all__ = ["FUNCTIONS", "Expression", "compile_result"]

#: name -> (function, number of arguments)
FUNCTIONS: dict[str, tuple[Callable[..., Any], int]] = {"abs": (np.abs, 1), "sqrt": (np.sqrt, 1), "exp": (np.exp, 1), "log": (np.log, 1),
             "log10": (np.log10, 1), "sin": (np.sin, 1), "cos": (np.cos, 1), "tan": (np.tan, 1),
             "min": (np.minimum, 2), "max": (np.maximum, 2)}
_BINARY = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul, ast.Div: operator.truediv,
           ast.FloorDiv: operator.floordiv, ast.Mod: operator.mod, ast.Pow: operator.pow}
_UNARY: dict[type[ast.unaryop], Callable[[Any], Any]] = {ast.USub: operator.neg, ast.UAdd: operator.pos}


@dataclass(frozen=True)
class Expression:
    """A checked expression; :meth:`evaluate` takes the input values by name."""

    text: str
    tree: ast.expr
    inputs: tuple[str, ...]

    def evaluate(self, values: Mapping[str, Any]) -> Any:
        """The value of the expression (float64 arithmetic).

        Raises
        ------
        ValidationError
            Division by zero, overflow or an invalid operation.
        """
        env = {k: np.asarray(v, dtype=np.float64) for k, v in values.items()}
        try:
            with np.errstate(all="raise"):
                out = _eval(self.tree, env)
        except (FloatingPointError, ZeroDivisionError, ValueError) as exc:
            raise ValidationError(f"computed value {self.text!r}: {exc}") from None
        return out.item() if np.ndim(out) == 0 else out


def _input_name(node: ast.AST) -> str | None:
    if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "ds":
        return node.attr
    if isinstance(node, ast.Name):
        return node.id
    return None


def _check(node: ast.AST, inputs: set[str]) -> None:
    if isinstance(node, ast.Constant) and type(node.value) in (int, float) and abs(node.value) < 1e300:  # type: ignore[arg-type]  # type() made it an int or a float
        return
    if isinstance(node, ast.BinOp) and type(node.op) in _BINARY:
        _check(node.left, inputs)
        _check(node.right, inputs)
        return
    if isinstance(node, ast.UnaryOp) and type(node.op) in _UNARY:
        _check(node.operand, inputs)
        return
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in FUNCTIONS \
            and not node.keywords and len(node.args) == FUNCTIONS[node.func.id][1]:
        for arg in node.args:
            _check(arg, inputs)
        return
    name = _input_name(node)
    if name is not None and name in inputs:
        return
    what = ast.unparse(node) if isinstance(node, ast.expr) else type(node).__name__
    raise ValidationError(f"{what!r} (column {getattr(node, 'col_offset', 0) + 1}) is not allowed: only numbers, "
                          f"the inputs {sorted(inputs)}, + - * / // % ** and {', '.join(f'{k}()' for k in FUNCTIONS)}")


def compile_result(text: str, result: str, inputs: set[str]) -> Expression:
    """Check ``ds.RESULT = EXPR`` (or a bare ``EXPR``) over ``inputs``.

    Raises
    ------
    ValidationError
        Not that form, or anything outside the grammar (names the offending part).
    """
    if len(text) > 10_000:
        raise ValidationError("longer than 10000 characters")
    try:
        module = ast.parse(text.strip(), mode="exec")
    except SyntaxError as exc:
        raise ValidationError(f"not an expression: {exc.msg} (column {exc.offset})") from None
    except (RecursionError, MemoryError, ValueError):
        raise ValidationError("too deeply nested or not parseable") from None
    if len(module.body) != 1:
        raise ValidationError("one assignment 'ds.NAME = expression' only")
    stmt = module.body[0]
    if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1:
        if _input_name(stmt.targets[0]) != result:
            raise ValidationError(f"the result must be assigned to ds.{result}")
        expr = stmt.value
    elif isinstance(stmt, ast.Expr):
        expr = stmt.value
    else:
        raise ValidationError("one assignment 'ds.NAME = expression' only")
    try:
        _check(expr, inputs)
    except RecursionError:
        raise ValidationError("too deeply nested") from None
    return Expression(text.strip(), expr, tuple(sorted(inputs)))


def _eval(node: ast.expr, env: Mapping[str, Any]) -> Any:
    if isinstance(node, ast.Constant):
        return np.float64(node.value)  # type: ignore[arg-type]  # _check let only int and float constants in
    if isinstance(node, ast.BinOp):
        return _BINARY[type(node.op)](_eval(node.left, env), _eval(node.right, env))
    if isinstance(node, ast.UnaryOp):
        return _UNARY[type(node.op)](_eval(node.operand, env))
    if isinstance(node, ast.Call):
        return FUNCTIONS[node.func.id][0](*(_eval(a, env) for a in node.args))  # type: ignore[attr-defined]  # _check: func is an ast.Name
    return env[_input_name(node)]  # type: ignore[index]  # _check: an input name, never None
