"""Karabo-style device proxies: values with units and timestamps, Hash and schema,
``connect_device`` and the verbs (``set_wait``, ``wait_until_new``, ``lock``, ...).

::

    from ctlshell.proxies import connect_device, set_wait, unit, State
    oven = connect_device("local://OVEN:")        # a Daemon hosted here
    oven.SETPOINT = 300 * unit.K                  # validated, written, waited for
    m1 = connect_device("ca://BL:M1:", pvs=["VAL", "RBV", "DMOV", "MOVN"])
    wait_until(lambda: m1.state == State.ON)

Imports pint (about 0.3 s); ``import ctlshell`` does not import this package until a
proxy verb is used. The Karabo spellings are in :mod:`ctlshell.karabo`.
"""

from ..core import CtlshellError as KaraboError
from ._backend import ChannelBackend, HostedBackend, ProxyBackend
from ._enums import AlarmCondition, MetricPrefix, State, Unit
from ._hash import Hash, HashElement, HashMergePolicy
from ._proxy import CLIENT_ID, DeviceProxy
from ._queue import Queue
from ._schema import Descriptor, Schema, SlotDescriptor
from ._sync import Future, all_completed, first_completed, first_exception, gather, synchronous
from ._timestamp import Timestamp, days_ago, hours_ago, minutes_ago
from ._units import parse_unit, unit
from ._values import BoolValue, EnumValue, KaraboValue, NodeValue, StringValue, Value, is_set
from ._history import get_history
from ._lifecycle import get_class_schema, instantiate, shutdown
from ._lock import DeviceLock, lock
from ._tasks import background, sleep
from ._topology import (
    find_devices,
    find_servers,
    get_classes,
    get_devices,
    get_instance_info,
    get_servers,
    get_topology,
    is_alive,
)
from ._verbs import (
    call,
    call_no_wait,
    compare_device_configuration,
    connect_device,
    disconnect_device,
    execute,
    execute_no_wait,
    get_configuration,
    get_descriptors,
    get_device,
    get_properties,
    get_schema,
    set_no_wait,
    set_wait,
    update_device,
)
from ._wait import wait_until, wait_until_new, wait_while
from ._tango import device_properties, set_device_property, tango_classes, tango_devices, tango_servers

__all__ = [
    "AlarmCondition", "BoolValue", "ChannelBackend", "CLIENT_ID", "Descriptor", "DeviceLock", "DeviceProxy",
    "EnumValue", "Future", "Hash", "HashElement", "HashMergePolicy", "HostedBackend", "KaraboError",
    "KaraboValue", "MetricPrefix", "NodeValue", "ProxyBackend", "Queue", "Schema", "SlotDescriptor", "State",
    "StringValue", "Timestamp", "Unit", "Value", "all_completed", "background", "call", "call_no_wait",
    "compare_device_configuration", "connect_device", "days_ago", "device_properties", "disconnect_device",
    "execute", "execute_no_wait", "find_devices", "find_servers", "first_completed", "first_exception",
    "gather", "get_class_schema", "get_classes", "get_configuration", "get_descriptors", "get_device",
    "get_devices", "get_history", "get_instance_info", "get_properties", "get_schema", "get_servers",
    "get_topology", "hours_ago", "instantiate", "is_alive", "is_set", "lock", "minutes_ago", "parse_unit",
    "set_device_property", "set_no_wait", "set_wait", "shutdown", "sleep", "synchronous", "tango_classes",
    "tango_devices", "tango_servers", "unit", "update_device", "wait_until", "wait_until_new", "wait_while",
]
