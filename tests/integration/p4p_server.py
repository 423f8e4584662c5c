"""A plain p4p server (not ctlshell) run as a subprocess by the PVA tests.

Usage: p4p_server.py PREFIX ; serves on the ports of its environment
(EPICS_PVAS_SERVER_PORT / EPICS_PVAS_BROADCAST_PORT, loopback only), prints '@@ready'.
  PREFIX:TEMP    NTScalar double with display, control and valueAlarm; puts are posted
  PREFIX:WAVE    NTScalarArray double[5]; puts are posted
  PREFIX:MODE    NTEnum Off/On; puts are posted
  PREFIX:STRUCT  a structure that is no normative type: {x: double, a: {b: int32, c: string}}
  PREFIX:COUNT   NTScalar double, for floods
stdin: "post NAME JSON" posts a value (a JSON object names fields);
       "flood N" posts 1, 2, ... N to PREFIX:COUNT as fast as it can, then prints
       '@@flooded'; EOF or SIGINT stops.
"""

import json
import sys
import time

import numpy as np
from p4p import Type, Value
from p4p.nt import NTEnum, NTScalar
from p4p.server import Server
from p4p.server.thread import SharedPV

STRUCT = Type([("x", "d"), ("a", ("S", None, [("b", "i"), ("c", "s")]))], id="demo:Struct")


class Echo:
    def put(self, pv, op):
        value = op.value()
        pv.post(value, timestamp=time.time())
        op.done()


class EchoRaw:
    def put(self, pv, op):
        pv.post(op.value())
        op.done()


def main(prefix):
    temp_nt = NTScalar("d", display=True, control=True, valueAlarm=True, form=True)
    temp = SharedPV(nt=temp_nt, handler=Echo(), initial={
        "value": 21.5, "display.units": "degC", "display.precision": 2,
        "display.limitLow": -50.0, "display.limitHigh": 150.0,
        "control.limitLow": -20.0, "control.limitHigh": 120.0,
        "valueAlarm.lowAlarmLimit": -10.0, "valueAlarm.highAlarmLimit": 100.0,
        "valueAlarm.lowWarningLimit": 0.0, "valueAlarm.highWarningLimit": 80.0,
        "alarm.severity": 1, "alarm.message": "HIGH",
    }, timestamp=1_700_000_000.25)
    wave = SharedPV(nt=NTScalar("ad"), handler=Echo(), initial=np.arange(5.0), timestamp=time.time())
    mode = SharedPV(nt=NTEnum(), handler=Echo(), initial={"index": 1, "choices": ["Off", "On"]})
    struct = SharedPV(handler=EchoRaw(), initial=Value(STRUCT, {"x": 1.5, "a": {"b": 7, "c": "seven"}}))
    count = SharedPV(nt=NTScalar("d"), initial=0.0)
    pvs = {prefix + "TEMP": temp, prefix + "WAVE": wave, prefix + "MODE": mode, prefix + "STRUCT": struct,
           prefix + "COUNT": count}
    server = Server(providers=[pvs])
    print("@@ready", json.dumps(server.conf()), flush=True)
    try:
        for line in sys.stdin:
            words = line.split(None, 2)
            if len(words) == 2 and words[0] == "flood":
                for i in range(1, int(words[1]) + 1):
                    count.post(float(i))
                print("@@flooded", flush=True)
            elif len(words) == 3 and words[0] == "post":
                value = json.loads(words[2])
                pv = pvs[words[1]]
                if pv is struct:
                    pv.post(Value(STRUCT, value))
                else:
                    pv.post(value, timestamp=time.time())
                print("@@posted", words[1], flush=True)
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()


if __name__ == "__main__":
    main(sys.argv[1])
