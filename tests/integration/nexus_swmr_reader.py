"""Another process reading a NeXus file while it is written (SWMR): prints the number
of points and the last value of DATASET, then again after each line on stdin
(``refresh`` of the same open file, as a live viewer does)."""

import json
import sys

import h5py

path, name = sys.argv[1], sys.argv[2]
with h5py.File(path, "r", swmr=True) as f:
    ds = f[name]
    for _ in iter(sys.stdin.readline, ""):
        ds.refresh()
        print("@@" + json.dumps({"n": ds.shape[0], "values": ds[()].tolist()}), flush=True)
