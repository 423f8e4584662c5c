"""Parsing of channel addresses: ``scheme://name``.

Pure: takes strings, returns frozen :class:`Address` values or raises
:class:`~ctlshell.core.AddressError`. Knows the schemes by name only; which backend
serves a scheme is the registry's business.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ._errors import AddressError

__all__ = ["SCHEMES", "Address", "parse_address"]

SCHEMES: tuple[str, ...] = ("ca", "pva", "tango", "local")

# EPICS record names allow letters, digits and _ - + : [ ] < > ; . plus '{}' used by
# macros and '$' seen at facilities; no white space, quotes or commas.
_EPICS_NAME = re.compile(r"^[A-Za-z0-9_\-+:\[\]<>;.{}$#/%]+$")
# tango://[host:port/]domain/family/member[/attribute | ->Command][#dbase=no]
_TANGO_PART = r"[^/\s#>]+"
_TANGO_NAME = re.compile(
    r"^(?:(?P<host>[A-Za-z0-9_.\-]+):(?P<port>\d{1,5})/)?"
    rf"(?P<device>{_TANGO_PART}/{_TANGO_PART}/{_TANGO_PART})"
    rf"(?:/(?P<attr>{_TANGO_PART})|->(?P<command>[A-Za-z_][A-Za-z0-9_]*))?"
    r"(?:#dbase=(?P<dbase>yes|no))?$"
)
_MAX_NAME = 255


@dataclass(frozen=True, order=True)
class Address:
    """A parsed channel address.

    Attributes
    ----------
    scheme : str
        One of :data:`SCHEMES`.
    name : str
        The name within that control system (a PV name, a Tango attribute path).
    """

    scheme: str
    name: str

    def __str__(self) -> str:
        text: str | None = self.__dict__.get("_text")
        if text is None:  # one string per address, however often it is shown or used as a key
            text = f"{self.scheme}://{self.name}"
            object.__setattr__(self, "_text", text)  # not a field: equality, order and hash ignore it
        return text


def parse_address(text: object, default_scheme: str = "ca") -> Address:
    """Parse ``scheme://name`` (or a bare name, which takes ``default_scheme``).

    Parameters
    ----------
    text : str or Address
        What the user typed. An :class:`Address` is returned unchanged.
    default_scheme : str
        Scheme for a bare name.

    Returns
    -------
    Address

    Raises
    ------
    AddressError
        If ``text`` is not a string, names an unknown scheme, or the name is empty
        or has characters the control system does not allow.
    """
    if isinstance(text, Address):
        return text
    if not isinstance(text, str):
        raise AddressError(f"an address must be a string like 'ca://NAME', not {type(text).__name__}")
    raw = text.strip()
    if not raw:
        raise AddressError("empty address: give a PV name like 'ca://BL:MOTOR.RBV'")
    if "://" in raw:
        scheme, _, name = raw.partition("://")
        scheme = scheme.lower()
    elif re.match(r"^[A-Za-z]+:/", raw):
        raise AddressError(f"malformed address {text!r}: write the scheme as 'scheme://name'")
    else:
        scheme, name = default_scheme, raw
    if scheme not in SCHEMES:
        known = ", ".join(f"{s}://" for s in SCHEMES)
        raise AddressError(f"unknown scheme {scheme!r} in {text!r}; known schemes: {known}")
    if not name:
        raise AddressError(f"address {text!r} has no name after '{scheme}://'")
    if len(name) > _MAX_NAME:
        raise AddressError(f"name in {text!r} is {len(name)} characters long; the limit is {_MAX_NAME}")
    if scheme == "tango":
        if not _TANGO_NAME.match(name):
            raise AddressError(
                f"malformed Tango address {text!r}: expected "
                "'tango://[host:port/]domain/family/member[/attribute]', "
                "'tango://[host:port/]domain/family/member->Command', optionally ending in '#dbase=no'"
            )
    elif not _EPICS_NAME.match(name):
        bad = sorted({c for c in name if not _EPICS_NAME.match(c)})
        raise AddressError(f"name in {text!r} contains characters not allowed in a PV name: {bad!r}")
    return Address(scheme, name)
