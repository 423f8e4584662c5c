"""A fast C IOC (pythonSoftIOC) that floods monitors: run by the soak tests.

Usage: softioc_flood.py PREFIX DELAY SECONDS
Serves PREFIX:COUNT (ao) and PREFIX:WAVE (1000 doubles); after DELAY seconds posts a
counter to both as fast as it can for SECONDS, then prints 'FINAL n' and keeps serving.
"""

import sys
import time

import numpy as np
from softioc import asyncio_dispatcher, builder, softioc

prefix, delay, seconds = sys.argv[1], float(sys.argv[2]), float(sys.argv[3])
dispatcher = asyncio_dispatcher.AsyncioDispatcher()
builder.SetDeviceName(prefix.rstrip(":"))
count = builder.aOut("COUNT", initial_value=0.0)
wave = builder.WaveformOut("WAVE", initial_value=np.zeros(1000))
builder.LoadDatabase()
softioc.iocInit(dispatcher)
print("Server startup complete", flush=True)
time.sleep(delay)
data = np.zeros(1000)
end = time.monotonic() + seconds
n = 0
while time.monotonic() < end:
    n += 1
    count.set(float(n))
    data[0] = n
    wave.set(data)
print(f"FINAL {n}", flush=True)
while True:
    time.sleep(1)
