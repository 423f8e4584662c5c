"""``make compat``: run nxswriter 3.25.0's own server-driving tests against both writers.

Fetches the nxswriter sdist with ``pip download`` (cached in ``--cache``), copies its
``test/`` folder once per writer, replaces only ``ServerSetUp.py`` and
``SimpleServerSetUp.py`` (start and stop the servers by PID; ``tests/compat/``), and
runs each test file with pytest, once with NXSDataWriter (the reference) and once
with ctlshell's ``NexusWriter``, both registered in one embedded Tango database.

The suite's XML names ``localhost:10000`` as the Tango host, so everything runs in a
network namespace of its own holding only loopback (``unshare --net``): port 10000
there is ours and nothing can leave 127.0.0.1. Prints, per test file, the tests run,
those passed by ctlshell and those passed by NXSDataWriter, then every test the
reference passes and ctlshell does not.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
import xml.etree.ElementTree as ET
from pathlib import Path

HERE = Path(__file__).resolve().parent
VERSION = "3.25.0"
FILES = ["NXSDataWriterH5PY_test.py", "ClientFieldTagServerH5PY_test.py", "XMLFieldTagServerH5PY_test.py",
         "TangoFieldTagServerH5PY_test.py"]
WRITERS = ["ctlshell", "nxsdatawriter"]
INSIDE = "CTLSHELL_COMPAT_NETNS"


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--cache", default=os.path.expanduser("~/.cache/ctlshell-compat"),
                   help="where the sdist is kept between runs")
    p.add_argument("--work", default=None, help="work folder (default: a new temp folder, removed at the end)")
    p.add_argument("--files", nargs="*", default=FILES, help="test files of the suite to run")
    p.add_argument("--writers", nargs="*", default=WRITERS, choices=WRITERS)
    p.add_argument("-k", default=None, help="pytest -k expression (a subset of tests)")
    p.add_argument("--timeout", type=float, default=1800, help="seconds per test file and writer")
    p.add_argument("--keep", action="store_true", help="keep the work folder (files written, server logs)")
    p.add_argument("--expect", default=None, help="file of the known gaps (FILE::CLASS.TEST and why, one a line): "
                   "exit 1 when ctlshell fails any other test NXSDataWriter passes")
    return p


def sdist_tests(cache: Path) -> Path:
    """The ``test/`` folder of the nxswriter sdist, downloaded once into ``cache``."""
    cache.mkdir(parents=True, exist_ok=True)
    tarball = cache / f"nxswriter-{VERSION}.tar.gz"
    if not tarball.exists():
        subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "--no-binary", ":all:",
                        f"nxswriter=={VERSION}", "-d", str(cache), "-q"], check=True)
    tests = cache / f"nxswriter-{VERSION}" / "test"
    if not tests.is_dir():
        with tarfile.open(tarball) as tar:
            tar.extractall(cache, filter="data")
    return tests


def _results(junit: Path) -> dict[str, str]:
    """test id -> passed / failed / error / skipped, from pytest's JUnit XML."""
    out: dict[str, str] = {}
    if not junit.exists():
        return out
    for case in ET.parse(junit).getroot().iter("testcase"):
        name = f"{case.get('classname', '').split('.')[-1]}.{case.get('name')}"
        kinds = {child.tag for child in case}
        out[name] = ("failed" if "failure" in kinds else "error" if "error" in kinds
                     else "skipped" if "skipped" in kinds else "passed")
    return out


def run_file(tests: Path, work: Path, writer: str, name: str, k: str | None, timeout: float) -> dict[str, str]:
    """Run one test file of the suite against ``writer``; its results per test."""
    folder = work / writer
    if not folder.exists():
        shutil.copytree(tests, folder)
        for mine in ("ServerSetUp.py", "SimpleServerSetUp.py"):
            shutil.copy(HERE / mine, folder / mine)
        shutil.copy(HERE / "keep_files_conftest.py", folder / "conftest.py")
    logs = work / f"logs-{writer}"
    logs.mkdir(exist_ok=True)
    junit = work / f"{writer}-{name}.xml"
    env = dict(os.environ, CTLSHELL_COMPAT_WRITER=writer, CTLSHELL_COMPAT_LOGS=str(logs),
               CTLSHELL_COMPAT_KEEP=str(work / f"files-{writer}"),
               PYTHONPATH=str(folder), TANGO_HOST="127.0.0.1:10000", PYTHONUNBUFFERED="1")
    args = [sys.executable, "-m", "pytest", name, "-q", "-p", "no:cacheprovider", "-o", "addopts=",
            "--rootdir", str(folder), f"--junitxml={junit}", "-o", "junit_family=xunit1"]
    if k:
        args += ["-k", k]
    with open(work / f"{writer}-{name}.log", "wb") as log:
        try:
            subprocess.run(args, cwd=folder, env=env, stdout=log, stderr=subprocess.STDOUT, timeout=timeout)
        except subprocess.TimeoutExpired:
            print(f"  {writer} {name}: timed out after {timeout:.0f} s", flush=True)
    return _results(junit)


def inside(args: argparse.Namespace) -> int:
    subprocess.run(["ip", "link", "set", "lo", "up"], check=True)
    sys.path.insert(0, str(HERE.parents[1]))
    from ctlshell.testing import TangoDatabase

    tests = sdist_tests(Path(args.cache))  # fetched before the namespace was entered
    work = Path(args.work or tempfile.mkdtemp(prefix="ctlshell-compat-"))
    work.mkdir(parents=True, exist_ok=True)
    db = TangoDatabase(port=10000).start()
    rows, missing, gaps, passed_by_both = [], [], [], []
    compared, differ = 0, []
    t0 = time.monotonic()
    try:
        for name in args.files:
            res = {}
            for writer in args.writers:
                t = time.monotonic()
                res[writer] = run_file(tests, work, writer, name, args.k, args.timeout)
                print(f"  {name} against {writer}: {time.monotonic() - t:.0f} s", flush=True)
            ids = sorted(set().union(*res.values()))
            ran = [i for i in ids if any(r.get(i, "skipped") != "skipped" for r in res.values())]
            passed = {w: sum(1 for i in ran if res[w].get(i) == "passed") for w in args.writers}
            rows.append((name, len(ran), passed))
            if {"ctlshell", "nxsdatawriter"} <= set(args.writers):
                passed_by_both += [i for i in ran if all(res[w].get(i) == "passed" for w in args.writers)]
                gaps += [f"{name}::{i}" for i in ran
                         if res["nxsdatawriter"].get(i) == "passed" and res["ctlshell"].get(i) != "passed"]
                missing += [f"{name}::{i} ({res['ctlshell'].get(i, 'not run')})" for i in ran
                            if res["nxsdatawriter"].get(i) == "passed" and res["ctlshell"].get(i) != "passed"]
        compared, differ = compare_files(work, passed_by_both)
    finally:
        db.close()
        if not (args.keep or args.work):
            shutil.rmtree(work, ignore_errors=True)
    print(f"\nnxswriter {VERSION} suite, {time.monotonic() - t0:.0f} s, load average "
          f"{' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    head = f"{'test file':<36} {'run':>5}" + "".join(f" {'passed by ' + w:>24}" for w in args.writers)
    print(head)
    for name, ran, passed in rows:
        print(f"{name:<36} {ran:>5}" + "".join(f" {passed[w]:>24}" for w in args.writers))
    if missing:
        print(f"\npassed by NXSDataWriter, not by ctlshell ({len(missing)}):")
        for m in missing:
            print("  " + m)
    if compared:
        print(f"\nfiles written by both writers for the same configuration and records (tests both pass): "
              f"{compared} compared with h5py, {compared - len(differ)} the same in structure")
        for d in differ:
            print("  differs: " + d)
    if args.keep or args.work:
        print(f"\nwork folder (files, logs): {work}")
    if differ and args.expect:
        print(f"\nFAIL: {len(differ)} file(s) differ between the writers")
        return 1
    if args.expect:
        known = _known(Path(args.expect))
        new = [g for g in gaps if g not in known]
        closed = [k for k in known if k not in gaps and k.split("::")[0] in args.files]
        for k in closed:
            print(f"now passed by ctlshell, remove from {args.expect}: {k}")
        if new:
            print(f"\nFAIL: {len(new)} test(s) NXSDataWriter passes fail with ctlshell and are not in {args.expect}")
            return 1
    return 0


def compare_files(work: Path, tests: list[str]) -> tuple[int, list[str]]:
    """Walk the files each writer wrote in each test both passed (kept by the suite's
    conftest) with h5py, and compare their structure as tests/unit/nexus_ref.py does: the
    same objects, NX_class, shapes, dtypes, attributes, link targets resolving (not the
    values: each run of the suite draws new random data; its own checks read them)."""
    from tests.unit.nexus_ref import assert_same, facts

    compared, differ = 0, []
    for test in tests:
        mine, ref = work / "files-ctlshell" / test, work / "files-nxsdatawriter" / test
        if not (mine.is_dir() and ref.is_dir()):
            continue
        for ref_file in sorted(ref.iterdir()):
            mine_file = mine / ref_file.name
            if not mine_file.exists():
                differ.append(f"{test}/{ref_file.name}: written by NXSDataWriter only")
                continue
            compared += 1
            try:
                assert_same(facts(str(ref_file)), facts(str(mine_file)), values=False)  # the suite's data is random
            except (AssertionError, OSError) as exc:
                differ.append(f"{test}/{ref_file.name}: {(str(exc).splitlines() or [repr(exc)])[0][:200]}")
    return compared, differ


def _known(path: Path) -> set[str]:
    """Test ids of the known-gaps file (a line: ``FILE::CLASS.TEST  reason``; ``#`` comments)."""
    out = set()
    for line in path.read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            out.add(line.split()[0])
    return out


def main() -> int:
    args = _parser().parse_args()
    if os.environ.get(INSIDE) != "1":
        sdist_tests(Path(args.cache))  # the package index is outside the namespace
        env = dict(os.environ, **{INSIDE: "1"})
        for var in list(env):
            if var.startswith(("EPICS_", "TANGO_HOST")):
                env.pop(var)
        unshare = ["unshare", "--net"] + ([] if os.getuid() == 0 else ["--map-root-user"])
        return subprocess.run([*unshare, sys.executable, __file__, *sys.argv[1:]], env=env).returncode
    return inside(args)


if __name__ == "__main__":
    sys.exit(main())
