"""Karabo-style device proxies: values with units and timestamps, Hash and schema,
``connect_device`` and the verbs (``set_wait``, ``wait_until_new``, ``lock``, ...).

::

    from ctlshell.proxies import connect_device, set_wait, unit
    oven = connect_device("local://OVEN:")        # a Daemon hosted here
    oven.SETPOINT = 300 * unit.K                  # validated, written, waited for
    m1 = connect_device("ca://BL:M1:", pvs=["VAL", "RBV"])

Imports pint (about 0.3 s); ``import ctlshell`` does not import this package until a
proxy verb is used. The Karabo spellings are in :mod:`ctlshell.karabo`.
"""

from ._backend import ChannelBackend, HostedBackend, ProxyBackend
from ._hash import Hash
from ._proxy import CLIENT_ID, DeviceProxy
from ._schema import Descriptor, Schema, SlotDescriptor
from ._sync import Future
from ._units import parse_unit, unit
from ._values import Value
from ._lock import DeviceLock, lock
from ._tasks import background, sleep
from ._verbs import (
    connect_device,
    disconnect_device,
    execute,
    execute_no_wait,
    get_device,
    get_properties,
    set_no_wait,
    set_wait,
)
from ._wait import wait_until, wait_until_new, wait_while
from ._tango import device_properties, set_device_property, tango_classes, tango_devices, tango_servers

__all__ = [
    "CLIENT_ID", "ChannelBackend", "Descriptor", "DeviceLock", "DeviceProxy", "Future", "Hash", "HostedBackend",
    "ProxyBackend", "Schema", "device_properties", "set_device_property", "tango_classes", "tango_devices",
    "tango_servers", "SlotDescriptor", "Value", "background", "connect_device", "disconnect_device",
    "execute", "execute_no_wait", "get_device", "get_properties", "lock", "parse_unit", "set_no_wait", "set_wait",
    "sleep", "unit", "wait_until", "wait_until_new", "wait_while",
]
