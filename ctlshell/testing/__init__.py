"""Test helpers shipped with ctlshell: an isolated loopback environment, free ports,
and real servers (caproto IOCs, pythonSoftIOC, a Tango database and Tango device
servers) run as subprocesses.

Nothing here is a mock: every helper starts or talks to a real server, on 127.0.0.1 only, or inside a network namespace of the test's own.
"""

from ._env import child_command, free_port, loopback_env
from ._ioc import IocProcess
from ._netns import NetNamespace, NsProcess, netns_available, no_epics_env
from ._tango import TangoDatabase, TangoServer, TangoTestServer, tango_env, tango_test_binary

__all__ = ["IocProcess", "NetNamespace", "NsProcess", "TangoDatabase", "TangoServer", "TangoTestServer", "child_command",
           "free_port", "loopback_env", "netns_available", "no_epics_env", "tango_env", "tango_test_binary"]
