"""Descriptors and the schema of a device, built from the protocol's own metadata.

A :class:`Descriptor` is one property: its key, Karabo value type (``INT32``,
``DOUBLE``, ``VECTOR_FLOAT``...), pint unit and the :class:`Metadata` the server
gave (CA/PVA metadata, a hosted Daemon's catalog, later Tango's attribute
configuration). :meth:`Descriptor.validate` is the local check every write passes
before anything is sent. Pure: knows no proxy and no server.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pint

from ..core import Metadata, ValidationError, coerce
from ._hash import Hash
from ._units import parse_unit
from ._values import BOOL_CHOICES, unwrap

__all__ = ["Descriptor", "Schema", "SlotDescriptor"]

#: Metadata.dtype -> (Karabo type, numpy type); an extension (Tango) may pass its own.
_TYPES: dict[str, tuple[str, Any]] = {
    "double": ("DOUBLE", np.float64), "float": ("FLOAT", np.float32), "long": ("INT32", np.int32),
    "int": ("INT32", np.int32), "short": ("INT16", np.int16), "char": ("UINT8", np.uint8),
    "int64": ("INT64", np.int64), "string": ("STRING", str), "enum": ("STRING", str),
    # Tango's types by their Metadata.dtype names
    "ushort": ("UINT16", np.uint16), "ulong": ("UINT32", np.uint32), "uchar": ("UINT8", np.uint8),
    "long64": ("INT64", np.int64), "ulong64": ("UINT64", np.uint64), "boolean": ("BOOL", np.bool_),
    "state": ("STRING", str),
}


@dataclass(frozen=True)
class Descriptor:
    """One property of a device.

    Attributes
    ----------
    key : str
        The property name on the proxy (``dev.<key>``).
    metadata : Metadata
        What the server says: dtype, count, units, limits, choices, access, description.
    value_type : str
        Karabo's type name, e.g. ``INT32``, ``DOUBLE``, ``VECTOR_DOUBLE``, ``STRING``.
    """

    key: str
    metadata: Metadata
    value_type: str = ""

    def __post_init__(self) -> None:
        if not self.value_type:
            base = _TYPES.get(self.metadata.dtype, ("DOUBLE", np.float64))[0]
            object.__setattr__(self, "value_type", ("VECTOR_" + base) if self.metadata.is_array else base)

    @property
    def unit(self) -> Any:
        """The pint unit, or None when the server states none (or one pint cannot read)."""
        return parse_unit(self.metadata.units)

    @property
    def numpy_type(self) -> Any:
        """The numpy scalar type that keeps the width (``np.int32`` for INT32)."""
        return _TYPES.get(self.metadata.dtype, ("", np.float64))[1]

    @property
    def writable(self) -> bool:
        return self.metadata.writable

    @property
    def access_mode(self) -> str:
        """``RECONFIGURABLE`` or ``READONLY`` (Karabo's names)."""
        return "RECONFIGURABLE" if self.writable else "READONLY"

    @property
    def description(self) -> str:
        return self.metadata.description

    def validate(self, value: Any) -> Any:
        """The bare value to send for ``value``, checked: access, units, type, limits.

        A quantity is converted to the property's unit; a bare number is taken to be in
        it. Nothing is sent by this method.

        Raises
        ------
        pint.DimensionalityError
            The value's units do not fit the property's.
        ValidationError
            Read-only property, wrong type, outside the limits, not a choice.
        """
        if not self.writable:
            raise ValidationError(f"{self.key} is read-only")
        raw = unwrap(value)
        if isinstance(raw, pint.Quantity):
            target = self.unit
            if target is None:
                if not raw.dimensionless:
                    raise pint.DimensionalityError(raw.units, "dimensionless",
                                                   extra_msg=f" ({self.key} has no unit)")
                raw = raw.to("").magnitude
            else:
                raw = raw.to(target).magnitude
        if isinstance(raw, (bool, np.bool_)) and tuple(self.metadata.choices or ()) == BOOL_CHOICES:
            raw = int(raw)  # a boolean item (an enum of False/True) takes a bool
        if isinstance(raw, bool) and self.metadata.dtype not in ("enum", "long", "short", "char", "int"):
            raise ValidationError(f"{self.key}: {raw!r} is not a {self.value_type}")
        return coerce(raw, self.metadata, self.key)

    def to_hash(self) -> Hash:
        """Karabo's schema attributes of this property."""
        meta = self.metadata
        h = Hash("nodeType", 0, "valueType", self.value_type, "accessMode", self.access_mode,
                 "unitSymbol", meta.units, "description", meta.description)
        if meta.control_limits is not None:
            h["minInc"], h["maxInc"] = meta.control_limits
        if meta.choices is not None:
            h["options"] = list(meta.choices)
        return h


@dataclass(frozen=True)
class SlotDescriptor:
    """One slot (a command): its name and description."""

    key: str
    description: str = ""


@dataclass(frozen=True)
class Schema:
    """Every property and slot of a device, in order.

    Attributes
    ----------
    device : str
        The device's address.
    properties : mapping of str to Descriptor
    slots : mapping of str to SlotDescriptor
    """

    device: str
    properties: Mapping[str, Descriptor] = field(default_factory=dict)
    slots: Mapping[str, SlotDescriptor] = field(default_factory=dict)

    @classmethod
    def from_metadata(cls, device: str, metadata: Mapping[str, Metadata],
                      slots: Mapping[str, str] | None = None) -> Schema:
        """A schema from each property's :class:`Metadata` and the slots' descriptions."""
        clash = set(metadata) & set(slots or {})
        if clash:
            raise ValidationError(f"{device}: {sorted(clash)} are both properties and slots")
        return cls(device, {k: Descriptor(k, m) for k, m in metadata.items()},
                   {k: SlotDescriptor(k, d) for k, d in (slots or {}).items()})

    def to_hash(self) -> Hash:
        """Karabo's schema Hash: one node per property (with its attributes) and slot."""
        h = Hash()
        for key, desc in self.properties.items():
            h[key] = desc.to_hash()
        for key, slot in self.slots.items():
            h[key] = Hash("nodeType", 1, "displayType", "Slot", "classId", "Slot", "description",
                          slot.description)
        return h

    @property
    def hash(self) -> Hash:
        """Karabo's ``Schema.hash``: :meth:`to_hash`."""
        return self.to_hash()

    @property
    def name(self) -> str:
        return self.device

    def __getitem__(self, key: str) -> Descriptor:
        return self.properties[key]
