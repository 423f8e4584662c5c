"""Karabo's spellings of the proxy verbs and types, for users coming from Karabo's ikarabo.

Aliases only; the implementation and its documentation are in
:mod:`ctlshell.proxies` (PEP 8 names there: ``connect_device``, ``set_wait``...)::

    from ctlshell.karabo import *
    d = connectDevice("local://STAGE:")
    waitUntil(lambda: d.state == State.ON)
    setWait(d, position=0.5 * unit.m)

What differs from Karabo on purpose is listed in ADR 0008 (bad writes refused
locally, units converted before sending, all-or-nothing that sends nothing, in-place
operators keeping the timestamp, proxies that stay connected).
"""

from typing import Any

from .proxies import (
    AlarmCondition,
    BoolValue,
    EnumValue,
    Hash,
    HashElement,
    HashMergePolicy,
    KaraboError,
    KaraboValue,
    MetricPrefix,
    NodeValue,
    Queue,
    Schema,
    State,
    StringValue,
    Timestamp,
    Unit,
    Value,
    background,
    call,
    execute as _execute,
    gather,
    instantiate,
    lock,
    shutdown,
    sleep,
    synchronous,
    unit,
)
from .proxies import (
    all_completed as allCompleted,
    call_no_wait as callNoWait,
    compare_device_configuration as compareDeviceConfiguration,
    days_ago as daysAgo,
    connect_device as connectDevice,
    disconnect_device as disconnectDevice,
    execute_no_wait as executeNoWait,
    find_devices as findDevices,
    find_servers as findServers,
    first_completed as firstCompleted,
    first_exception as firstException,
    get_class_schema as getClassSchema,
    get_classes as getClasses,
    get_configuration as getConfiguration,
    get_descriptors as getDescriptors,
    get_device as getDevice,
    get_devices as getDevices,
    get_history as getHistory,
    get_instance_info as getInstanceInfo,
    get_properties as getProperties,
    get_schema as getSchema,
    get_servers as getServers,
    get_topology as getTopology,
    hours_ago as hoursAgo,
    is_alive as isAlive,
    is_set as isSet,
    minutes_ago as minutesAgo,
    set_no_wait as setNoWait,
    set_wait as setWait,
    update_device as updateDevice,
    wait_until as waitUntil,
    wait_until_new as waitUntilNew,
    wait_while as waitWhile,
)

#: Karabo's name of a value with units.
QuantityValue = Value


def execute(device: Any, slot: str, *, timeout: Any = None, wait: bool = True) -> Any:
    """Karabo's ``execute(device, slot)``: a slot without arguments (``call`` takes them;
    ``ctlshell.proxies.execute`` takes them too)."""
    return _execute(device, slot, timeout=timeout, wait=wait)

__all__ = [
    "AlarmCondition", "BoolValue", "EnumValue", "Hash", "HashElement", "HashMergePolicy", "KaraboError",
    "KaraboValue", "MetricPrefix", "NodeValue", "QuantityValue", "Queue", "Schema", "State", "StringValue",
    "Timestamp", "Unit", "allCompleted", "background", "call", "callNoWait", "compareDeviceConfiguration",
    "connectDevice", "daysAgo", "disconnectDevice", "execute", "executeNoWait", "findDevices", "findServers",
    "firstCompleted", "firstException", "gather", "getClassSchema", "getClasses", "getConfiguration",
    "getDescriptors", "getDevice", "getDevices", "getHistory", "getInstanceInfo", "getProperties", "getSchema",
    "getServers", "getTopology", "hoursAgo", "instantiate", "isAlive", "isSet", "lock", "minutesAgo", "setNoWait",
    "setWait", "shutdown", "sleep", "synchronous", "unit", "updateDevice", "waitUntil", "waitUntilNew", "waitWhile",
]
