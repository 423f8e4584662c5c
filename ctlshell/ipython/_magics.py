"""The ``%pv`` line magic: one parser per verb, one ``ctlshell.api`` call per verb.

Each verb returns a value (``x = %pv get ca://X`` works). Expected failures reach
the user as one line: argument errors as IPython ``UsageError``, ctlshell's own as
:class:`~ctlshell.core.CtlshellError` shown by the handler of :mod:`._errors`;
``%pv --debug VERB ...`` shows the full traceback instead.
"""

from __future__ import annotations

import fnmatch
import sys
import time
from typing import Any

from IPython.core.error import UsageError
from IPython.core.magic import Magics, line_magic, magics_class

from .. import api
from ..core import CtlshellError, ValidationError, parse_address
from . import _verbs
from ._monitor import Monitor, live_table, watch
from ._names import NameIndex
from ._views import META, Readings, StatusTable

__all__ = ["PVMagics"]


def _in_notebook(shell: Any) -> bool:
    """True in a Jupyter kernel (display updates reach a browser), False in a terminal."""
    return getattr(shell, "kernel", None) is not None


@magics_class
class PVMagics(Magics):
    """``%pv VERB ...``; owns the session's background monitors and known names."""

    def __init__(self, shell: Any, names: NameIndex) -> None:
        super().__init__(shell)
        self.names = names
        self.monitors: list[Monitor] = []

    @line_magic
    def pv(self, line: str) -> Any:
        verb, _, rest = line.strip().partition(" ")
        debug = False
        if verb == "--debug":
            debug = True
            verb, _, rest = rest.strip().partition(" ")
        if not verb:
            raise UsageError("%pv needs a verb: " + ", ".join(_verbs.VERBS) + " (%pv? shows the usage)")
        if rest.split()[:1] in (["-h"], ["--help"]) or rest.strip() in ("?", "??"):
            print(_verbs.verb_help(verb) if verb in _verbs.VERBS else _verbs.usage())
            return None
        args = _verbs.parse(verb, rest)
        try:
            return getattr(self, f"_{verb}")(args)
        except CtlshellError as exc:
            if debug:
                exc._ctlshell_debug = True  # type: ignore[attr-defined]  # a mark for the error display
            raise
        except KeyboardInterrupt:
            if _in_notebook(self.shell):
                raise  # an interrupted notebook must not go on with the cells queued after this one
            print(f"%pv {verb}: interrupted", file=sys.stderr)
            return None

    pv.__doc__ = _verbs.usage()

    # -- helpers -----------------------------------------------------------------
    def _addresses(self, raw: list[str]) -> list[str]:
        """Canonical addresses; every one is checked before anything happens."""
        scheme = api.session().config.default_scheme
        return [str(parse_address(a, scheme)) for a in raw]

    def _remember(self, addresses: list[str]) -> None:
        self.names.add(addresses)

    def _metadata(self, address: str, timeout: float | None = None) -> None:
        if address not in META:
            try:
                META[address] = api.info(address, timeout=timeout)
            except CtlshellError:
                pass  # units are a nicety: the reading itself already arrived

    def _metadata_many(self, addresses: list[str], timeout: float | None = None) -> None:
        missing = [a for a in addresses if a not in META]
        if missing:
            try:
                META.update(api.info_many(missing, timeout=timeout).values)
            except CtlshellError:
                pass  # units are a nicety

    # -- verbs -----------------------------------------------------------------
    def _get(self, args: Any) -> Any:
        addresses = self._addresses(args.addresses)
        if len(addresses) == 1:
            reading = api.get(addresses[0], timeout=args.timeout)
            self._remember(addresses)
            self._metadata(addresses[0], args.timeout)
            return reading
        # all at once under one timeout: a dead channel costs one timeout and hides nobody
        results = api.get_many(addresses, timeout=args.timeout)
        self._remember(addresses)
        self._metadata_many(list(results), args.timeout)
        for error in results.errors.values():
            print(error, file=sys.stderr)
        readings = Readings(results.values[a] for a in results.addresses if a in results.values)  # repeats kept
        readings.errors = results.errors  # type: ignore[attr-defined]  # shown under the table
        return readings

    def _put(self, args: Any) -> None:
        (address,) = self._addresses([args.address])
        value = _verbs.parse_value(args.value)
        try:
            api.put(address, value, wait=args.wait, timeout=args.timeout)
        except KeyboardInterrupt as exc:  # with --wait: a MotionInterrupted, after the stop
            print(str(exc) or f"{address}: interrupted; the write was sent", file=sys.stderr)
            if _in_notebook(self.shell):
                raise
            return None
        self._remember([address])
        print(f"{address} <- {value!r}{' (done)' if args.wait else ''}")
        return None

    def _stop(self, args: Any) -> Any:
        (address,) = self._addresses([args.address])
        stopper = api.stop(address)
        print(f"{address}: stopped ({stopper})")
        return stopper

    def _monitor(self, args: Any) -> Monitor:
        addresses = self._addresses(args.addresses)
        if args.buffer is not None and not 1 <= args.buffer <= 1_000_000:
            raise UsageError(f"%pv monitor: --buffer must be between 1 and 1000000, not {args.buffer}")
        mon = Monitor(addresses, policy="latest" if args.buffer is None else args.buffer)
        self._remember(addresses)
        self._metadata_many(addresses)
        if args.background:
            self.monitors.append(mon)
            return mon
        if _in_notebook(self.shell) and args.duration is None:
            self.monitors.append(mon)
            live_table(mon, args.rate)
            return mon
        return watch(mon, args.rate, args.duration, reraise=_in_notebook(self.shell))

    def _unmonitor(self, args: Any) -> int:
        wanted = set(self._addresses(args.addresses))
        stopped = 0
        for mon in list(self.monitors):
            if not wanted or wanted & set(mon.addresses):
                mon.close()
                self.monitors.remove(mon)
                stopped += 1
        return stopped

    def _info(self, args: Any) -> Any:
        (address,) = self._addresses([args.address])
        described = api.describe(address, timeout=args.timeout)
        META[address] = described.metadata
        self._remember([address])
        return described

    def _status(self, args: Any) -> StatusTable:
        return StatusTable(api.status())

    def _list(self, args: Any) -> list[str]:
        if args.load:
            try:
                self.names.add_file(args.load)
            except OSError as exc:
                raise ValidationError(f"cannot read PV list {args.load!r}: {exc.strerror or exc}") from None
        if args.refresh:
            for failure in self.names.refresh(timeout=10.0):
                print(f"%pv list: {failure}", file=sys.stderr)
        names = self.names.names()
        pattern = args.pattern if "://" in args.pattern or args.pattern == "*" else f"*://{args.pattern}"
        return [n for n in names if fnmatch.fnmatchcase(n, pattern)]

    def _host(self, args: Any) -> Any:
        if args.group:
            if args.assignment:
                raise UsageError("%pv host: give NAME=VALUE or --group MODULE:CLASS, not both")
            from ..host import make_hostable

            obj = api.host(make_hostable(args.group, args.prefix))
            self._remember([f"ca://{n}" for n in getattr(obj, "names", ())] or api.hosted())
            return obj
        if not args.assignment or "=" not in args.assignment:
            raise UsageError("%pv host: expected NAME=VALUE (e.g. BL:TEMP=21.5) or --group MODULE:CLASS")
        name, _, text = args.assignment.partition("=")
        enum = [c.strip() for c in args.enum.split(",")] if args.enum else None
        handle = api.host(name.strip(), _verbs.parse_value(text), units=args.units, precision=args.precision,
                          limits=args.limits, alarm_limits=args.alarm_limits, warning_limits=args.warning_limits,
                          enum=enum, writable=args.writable, doc=args.doc)
        self._remember([f"ca://{name.strip()}"])
        return handle

    def _plot(self, args: Any) -> Any:
        from . import _plot
        from ._snapshot import writable_path

        addresses = self._addresses(args.addresses)
        if _in_notebook(self.shell) and not args.output:
            # a live plot widget; ipywidgets and matplotlib are imported only here, through ctlshell.widgets
            from .. import widgets

            self._remember(addresses)
            return widgets.plot(addresses, **({"window": args.window} if args.window else {}))
        path = str(writable_path(args.output or time.strftime("ctlshell-plot-%Y%m%d-%H%M%S.png")))
        for a in addresses:
            self._metadata(a)
        self._remember(addresses)
        units = {a: META[a].units for a in addresses if a in META}
        tick = None
        if _in_notebook(self.shell):
            from IPython.display import Image, display

            state: dict[str, Any] = {"handle": None}

            def tick(series: Any) -> None:
                png = _plot.draw(series, path, units)
                img = Image(filename=str(png))
                if state["handle"] is None:
                    state["handle"] = display(img, display_id=True)
                else:
                    state["handle"].update(img)

        series, interrupted = _plot.collect(addresses, args.duration, tick)
        out = _plot.draw(series, path, units)
        print(f"plot of {sum(len(s) for s in series.values())} readings written to {out}")
        if interrupted and _in_notebook(self.shell):
            raise KeyboardInterrupt
        return out

    def _snapshot(self, args: Any) -> Any:
        from . import _snapshot

        addresses = self._addresses(args.addresses)
        self._remember(addresses)
        if args.action == "save":
            values = _snapshot.save(args.file, addresses)
            print(f"saved {len(values)} values to {args.file}")
            return values
        if args.action == "diff":
            return _snapshot.diff(args.file, addresses)
        written = _snapshot.restore(args.file, addresses, dry_run=args.dry_run)
        verb = "would write" if args.dry_run else "wrote"
        print(f"{verb} {len(written)} channel(s){': ' + ', '.join(written) if written else ''}")
        return written

    def _gateway(self, args: Any) -> Any:
        if args.action == "stop":
            stopped = api.stop_gateways(args.port)
            print(f"stopped {stopped} gateway(s)")
            return stopped
        if args.action == "list":
            running = api.gateways()
            if not running:
                print("no gateway running (start one: %pv gateway start --upstream ADDR[:PORT])")
            for gw in running:
                print(gw.summary())
            return running
        options = {"upstream": args.upstream, "server_port": args.port, "broadcast_port": args.broadcast_port,
                   "interfaces": args.interfaces, "status_prefix": args.status_prefix,
                   "read_only": args.read_only or None}
        settings = {k: v for k, v in options.items() if v is not None}
        if args.config and settings:
            raise UsageError("%pv gateway start: give a configuration file or options, not both")
        gw = api.gateway(args.config, **settings) if args.config else api.gateway(**settings)
        print(gw.summary())
        return gw

