"""Karabo's spellings of the proxy verbs, for users coming from Karabo.

Aliases only; the implementation and its documentation are in
:mod:`ctlshell.proxies` (PEP 8 names there: ``connect_device``, ``set_wait``...)::

    from ctlshell.karabo import connectDevice, setWait, waitUntilNew, unit
"""

from .proxies import (
    Hash,
    Value,
    background,
    connect_device,
    disconnect_device,
    execute,
    execute_no_wait,
    get_device,
    get_properties,
    lock,
    set_no_wait,
    set_wait,
    sleep,
    unit,
    wait_until,
    wait_until_new,
    wait_while,
)

connectDevice = connect_device  # noqa: N816 (Karabo's name)
getDevice = get_device  # noqa: N816
disconnectDevice = disconnect_device  # noqa: N816
setWait = set_wait  # noqa: N816
setNoWait = set_no_wait  # noqa: N816
executeNoWait = execute_no_wait  # noqa: N816
getProperties = get_properties  # noqa: N816
waitUntilNew = wait_until_new  # noqa: N816
waitUntil = wait_until  # noqa: N816
waitWhile = wait_while  # noqa: N816

__all__ = [
    "Hash", "Value", "background", "connectDevice", "disconnectDevice", "execute", "executeNoWait", "getDevice",
    "getProperties", "lock", "setNoWait", "setWait", "sleep", "unit", "waitUntil", "waitUntilNew", "waitWhile",
]
