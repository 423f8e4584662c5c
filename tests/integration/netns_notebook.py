"""Run a notebook (or a few cells) with nbclient and print what came out, as JSON.

``python netns_notebook.py KERNEL NOTEBOOK.ipynb OUT.json`` or
``python netns_notebook.py KERNEL - OUT.json CELL [CELL ...]``. Run by the
namespace tests inside a network namespace of their own, with no EPICS variable:
the kernel this starts inherits that environment. OUT.json gets ``errors`` (the
error outputs as "ename: evalue") and ``text`` (every stream and text/plain or
text/html output, in order).
"""

from __future__ import annotations

import json
import sys
import tempfile

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError


def main(kernel: str, path: str, out: str, cells: list[str]) -> int:
    if path == "-":
        nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in cells])
    else:
        nb = nbformat.read(path, as_version=4)
    where = tempfile.mkdtemp(prefix="ctlshell-nsnb-")
    failure = ""
    try:
        NotebookClient(nb, timeout=120, startup_timeout=90, kernel_name=kernel,
                       resources={"metadata": {"path": where}}).execute()
    except CellExecutionError as exc:
        failure = str(exc)[-2000:]
    errors, text = [], []
    for cell in nb.cells:
        for o in cell.get("outputs", []):
            if o.get("output_type") == "error":
                errors.append(f"{o['ename']}: {o['evalue']}")
            text.append(o.get("text", ""))
            data = o.get("data", {})
            text.append(data.get("text/plain", ""))
            text.append(data.get("text/html", ""))
    with open(out, "w", encoding="utf-8") as f:
        json.dump({"errors": errors, "text": "\n".join(text), "failure": failure}, f)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:]))
