"""Run nxswriter's NXSDataWriter (the reference) as a Tango device server without
database, bound to 127.0.0.1: ``python nexus_nxsdatawriter.py PORT [NUMBER_OF_THREADS]``.

Device ``test/nxs/writer``; the ``Writer`` property defaults to h5py here (no h5cpp).
"""

import sys
import warnings

import tango

warnings.simplefilter("ignore", DeprecationWarning)
from nxswriter.NXSWriter import NXSDataWriter, NXSDataWriterClass  # noqa: E402

port = sys.argv[1]
NXSDataWriterClass.device_property_list["Writer"][2] = ["h5py"]  # defaults: there is no database
if len(sys.argv) > 2:
    NXSDataWriterClass.device_property_list["NumberOfThreads"][2] = [int(sys.argv[2])]
util = tango.Util(["NXSDataWriter", "ref", "-nodb", "-dlist", "test/nxs/writer",
                   "-ORBendPoint", f"giop:tcp:127.0.0.1:{port}"])
util.add_class(NXSDataWriterClass, NXSDataWriter, "NXSDataWriter")
tango.Util.instance().server_init()
print("NXSDataWriter ready", flush=True)
tango.Util.instance().server_run()
