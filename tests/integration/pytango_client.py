"""An independent Tango client: bare pytango in its own process.

``python pytango_client.py DEVICE_URL read ATTR...`` prints ``@@`` + JSON of the values.
"""

import json
import sys

import numpy as np
import tango


def plain(value):
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, tango.DevState):
        return str(value)
    return value


def main() -> None:
    url, verb, *names = sys.argv[1:]
    proxy = tango.DeviceProxy(url)
    if verb == "read":
        out = {n: plain(proxy.read_attribute(n).value) for n in names}
    else:
        raise SystemExit(f"unknown verb {verb}")
    print("@@" + json.dumps(out), flush=True)


if __name__ == "__main__":
    main()
