"""Protocol-neutral core: addresses, value objects, errors, the runtime and the channel cache.

Imports no protocol library, no IPython, no ipywidgets and no h5py (enforced by
import-linter).
"""

from ._access import Client, WriteRule
from ._address import SCHEMES, Address, parse_address
from ._backend import Backend, OnReading, SyncUpstream, Upstream
from ._cache import ChannelCache, ChannelState, ChannelStatus
from ._config import Config
from ._search import apply_local_search, local_pva_search, local_search
from ._convert import coerce, infer_dtype
from ._display import CSS as SEVERITY_CSS
from ._display import (
    DISPLAY_METADATA,
    alarm_text,
    display_metadata,
    forget_metadata,
    format_value,
    iso_time,
    metadata_pairs,
    plain_value,
    reading_line,
    remember_metadata,
    stamp,
)
from ._errors import (
    AddressError,
    BackendUnavailableError,
    ChannelTimeoutError,
    CtlshellError,
    DeviceError,
    DisconnectedError,
    MotionInterrupted,
    NotFoundError,
    PutRefusedError,
    RuntimeClosedError,
    RuntimeDeadlockError,
    ValidationError,
)
from ._delivery import pool as delivery_pool
from ._delivery import stop_pool
from ._fanout import KeepLast, KeepLatest, Policy, Subscription, parse_policy
from ._model import CommandInfo, Metadata, Reading, Severity, severity_for
from ._registry import BackendRegistry
from ._runtime import Runtime
from ._stop import stop_process
from ._store import HANDLED, LOCK_KEY, DeviceLock, PVStore, ReadHandler, SoftPV, WriteHandler, WriteHook

__all__ = [
    "apply_local_search", "local_pva_search", "local_search",
    "HANDLED", "LOCK_KEY", "Client", "DeviceLock", "ReadHandler", "WriteHandler", "WriteHook", "WriteRule",
    "SCHEMES", "Address", "AddressError", "Backend", "BackendRegistry", "BackendUnavailableError",
    "ChannelCache", "ChannelState", "ChannelStatus", "ChannelTimeoutError", "CommandInfo", "Config",
    "CtlshellError", "DeviceError", "DisconnectedError", "MotionInterrupted", "KeepLast", "KeepLatest", "Metadata", "NotFoundError",
    "OnReading", "PVStore",
    "Policy", "PutRefusedError", "Reading", "Runtime", "RuntimeClosedError", "RuntimeDeadlockError",
    "Severity", "SoftPV", "Subscription", "SyncUpstream", "Upstream", "ValidationError", "coerce", "infer_dtype",
    "delivery_pool", "parse_address", "parse_policy", "severity_for", "stop_pool",
    # display (one way to show a value)
    "DISPLAY_METADATA", "SEVERITY_CSS", "alarm_text", "display_metadata", "forget_metadata", "format_value", "iso_time", "metadata_pairs", "plain_value", "reading_line",
    "remember_metadata", "stamp",
    "stop_process",
]
