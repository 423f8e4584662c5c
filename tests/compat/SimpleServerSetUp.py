"""Replacement for nxswriter's ``test/SimpleServerSetUp.py``: start and stop by PID.

Registration, properties and the wait are the original's; the original's
``ps -ef | grep 'SimpleServer.py INST' | kill -9`` is replaced by killing the child
this object started.
"""

import os
import subprocess
import sys
import time

import tango

import SimpleServer


class SimpleServerSetUp(object):
    """Same constructor and attributes as the original."""

    def __init__(self, device="stestp09/testss/s1r228", instance="S1"):
        self.new_device_info_writer = tango.DbDevInfo()
        self.new_device_info_writer._class = "SimpleServer"
        self.new_device_info_writer.server = "SimpleServer/%s" % instance
        self.new_device_info_writer.name = device
        self.instance = instance
        self._psub = None
        self.dp = None
        self.device_prop = {
            'DeviceBoolean': False,
            'DeviceShort': 12,
            'DeviceLong': 1234566,
            'DeviceFloat': 12.4345,
            'DeviceDouble': 3.453456,
            'DeviceUShort': 1,
            'DeviceULong': 23234,
            'DeviceString': "My Sting"
        }
        self.class_prop = {
            'ClassBoolean': True,
            'ClassShort': 1,
            'ClassLong': -123555,
            'ClassFloat': 12.345,
            'ClassDouble': 1.23445,
            'ClassUShort': 1,
            'ClassULong': 12343,
            'ClassString': "My ClassString",
        }

    def setUp(self):
        db = tango.Database()
        db.add_device(self.new_device_info_writer)
        db.add_server(self.new_device_info_writer.server, self.new_device_info_writer)
        db.put_device_property(self.new_device_info_writer.name, self.device_prop)
        db.put_class_property(self.new_device_info_writer._class, self.class_prop)
        path = os.path.dirname(os.path.abspath(SimpleServer.__file__))
        log = open(os.path.join(os.environ.get("CTLSHELL_COMPAT_LOGS", "."), "SimpleServer_%s.log" % self.instance),
                   "ab")
        self._psub = subprocess.Popen([sys.executable, "./SimpleServer.py", self.instance, "-ORBendPoint",
                                       "giop:tcp:127.0.0.1:0"], cwd=path, stdout=log, stderr=subprocess.STDOUT,
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
                self.dp = tango.DeviceProxy(dvname)
                time.sleep(0.01)
                if self.dp.state() == tango.DevState.ON:
                    found = True
            except Exception:
                found = False
            cnt += 1

    def tearDown(self):
        db = tango.Database()
        db.delete_server(self.new_device_info_writer.server)
        if self._psub is not None:
            if self._psub.poll() is None:
                self._psub.kill()
            self._psub.wait(10)
            self._psub = None
