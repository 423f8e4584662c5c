"""NXSDataWriter's ``MetadataOutput=file``: a SciCat JSON file per entry, ``NAME.h5.ENTRY.json``.

NXSDataWriter writes it at CloseEntry with nxstools' ``nxsfileinfo`` metadata (its
default options); so does ctlshell, through nxstools' public API (``h5pywriter.H5PYFile``
over the open h5py file, ``nxsfileinfo.Metadata.metadata``, its ``filewriter.writer``
set to h5py as NXSDataWriter sets it), so both files are the same. nxstools is optional: asking for the output without it is refused with one
sentence saying what to install. This module knows neither Tango nor the state rules.
"""

from __future__ import annotations

import os
from types import SimpleNamespace
from typing import Any

from ..core import ValidationError

__all__ = ["check_metadata_output", "metadata_files", "write_metadata"]

#: nxswriter.Metadata.Options, NXSDataWriter's defaults for nxsfileinfo
_OPTIONS = dict(attrs=None, nattrs="nexdatas_source,nexdatas_strategy,units", values="", group_postfix="",
                entryclasses="NXentry", technuques=None, relpath="", ownergroup=None, accessgroups=None,
                entrynames="", rawscientific=False, pid=None, pap=False, beamtimeid=None, puuid=False,
                pfname=False, beamtimemeta=None, scientificmeta=None, output=None, args=[""], emptyunits=False,
                fileformat="nxs")


def check_metadata_output(value: str) -> tuple[str, ...]:
    """The outputs named by NXSDataWriter's ``MetadataOutput`` property ("" or "file").

    Raises
    ------
    ValidationError
        An output other than ``file``, or ``file`` without nxstools installed.
    """
    outputs = tuple(v.strip() for v in (value or "").split(",") if v.strip())
    unknown = [v for v in outputs if v != "file"]
    if unknown:
        raise ValidationError(f"MetadataOutput {', '.join(unknown)!s} is not known: give 'file' or nothing")
    if outputs:
        try:
            import nxstools.nxsfileinfo  # noqa: F401
        except ImportError:
            raise ValidationError("MetadataOutput=file needs nxstools (pip install nxstools)") from None
    return outputs


def metadata_files(file_name: str, entries: list[str]) -> dict[str, str]:
    """entry name -> the path of its metadata file (NXSDataWriter's ``NAME.ENTRY.json``),
    next to the file (a group name cannot hold a path separator)."""
    return {entry: f"{file_name}.{entry}.json" for entry in entries}


def write_metadata(h5file: Any, file_name: str, entries: list[str]) -> list[str]:
    """Write the metadata JSON of each NXentry in ``entries`` of the open ``h5file``.

    Parameters
    ----------
    h5file : h5py.File
        The file, open (flushed) at the end of CloseEntry.
    file_name : str
        Its path; the JSON files go next to it.
    entries : list of str
        Names of the top-level NXentry groups to describe.

    Returns
    -------
    list of str
        The files written.
    """
    from nxstools import filewriter, h5pywriter, nxsfileinfo

    filewriter.writer = h5pywriter  # nxstools' module-level choice of backend, as NXSDataWriter sets it
    root = h5pywriter.H5PYFile(h5file, file_name).root()
    written = []
    for entry, path in metadata_files(file_name, entries).items():
        options = SimpleNamespace(**dict(_OPTIONS, output=path, args=[file_name], entrynames=entry))
        text = nxsfileinfo.Metadata.metadata(root, options)
        if text:
            tmp = f"{path}.tmp"
            with open(tmp, "w") as out:
                out.write(text)
            os.replace(tmp, path)
            written.append(path)
    return written
