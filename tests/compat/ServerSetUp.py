"""Replacement for nxswriter's ``test/ServerSetUp.py`` (the only part of its suite we change).

The original starts the writer with ``subprocess.call("NXSDataWriter INST &", shell=True)``
and stops it with ``ps -ef | grep 'NXSDataWriter INST' | kill -9``, which could kill
another engineer's server. This one registers the device the same way, starts the
writer chosen by ``CTLSHELL_COMPAT_WRITER`` (``nxsdatawriter``, the reference, or
``ctlshell``) as a child process, waits for it as the original does (exported, state
ON) and stops it by its PID. The tests' checks are untouched.
"""

import os
import subprocess
import sys
import time

import tango

WRITER = os.environ.get("CTLSHELL_COMPAT_WRITER", "nxsdatawriter")


class ServerSetUp(object):
    """Same constructor and attributes as the original."""

    def __init__(self, device="testp09/testtdw/testr228", instance="TDWTEST"):
        self.instance = instance
        self.device = device
        self.new_device_info_writer = tango.DbDevInfo()
        self.new_device_info_writer._class = "NXSDataWriter" if WRITER == "nxsdatawriter" else "NexusWriter"
        self.new_device_info_writer.server = "%s/%s" % (
            "NXSDataWriter" if WRITER == "nxsdatawriter" else "NexusWriter", self.instance)
        self.new_device_info_writer.name = device
        self._psub = None

    def _command(self):
        endpoint = ["-ORBendPoint", "giop:tcp:127.0.0.1:0"]
        if WRITER == "nxsdatawriter":
            exe = os.path.join(os.path.dirname(sys.executable), "NXSDataWriter")
            return [sys.executable, exe, self.instance] + endpoint
        return [os.path.join(os.path.dirname(sys.executable), "ctlshell"), "nxwriter", "--data-dir", os.getcwd(),
                "--device", self.device,
                "--instance", self.instance]

    def setUp(self):
        db = tango.Database()
        db.add_device(self.new_device_info_writer)
        db.add_server(self.new_device_info_writer.server, self.new_device_info_writer)
        log = open(os.path.join(os.environ.get("CTLSHELL_COMPAT_LOGS", "."), "%s.log" % self.instance), "wb")
        self._psub = subprocess.Popen(self._command(), stdout=log, stderr=subprocess.STDOUT,
                                      stdin=subprocess.DEVNULL)
        log.close()
        found = False
        cnt = 0
        dvname = self.new_device_info_writer.name
        while not found and cnt < 1000 and self._psub.poll() is None:
            try:
                exl = db.get_device_exported(dvname)
                if dvname not in exl.value_string:
                    time.sleep(0.01)
                    cnt += 1
                    continue
                dp = tango.DeviceProxy(dvname)
                time.sleep(0.01)
                if dp.state() == tango.DevState.ON:
                    found = True
            except Exception:
                found = False
            cnt += 1

    def tearDown(self):
        db = tango.Database()
        db.delete_server(self.new_device_info_writer.server)
        if self._psub is not None:
            if self._psub.poll() is None:
                self._psub.kill()  # the original sends SIGKILL too
            self._psub.wait(10)
            self._psub = None
