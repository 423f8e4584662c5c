"""Who wrote, and may they: :class:`Client` and :class:`WriteRule`.

Pure values. The protocol servers fill in a ``Client`` from what the protocol tells
them (CA sends the client's host and user name); :meth:`SoftPV.client_write` asks
the store's rule before anything changes. Knows no server and no socket.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Iterable
from dataclasses import dataclass

from ._errors import PutRefusedError, ValidationError

__all__ = ["Client", "WriteRule"]


@dataclass(frozen=True)
class Client:
    """The origin of a write from outside Python code.

    Attributes
    ----------
    protocol : str
        ``ca``, ``pva`` or ``python``.
    host, user : str
        As the client reported them (CA sends both; empty when unknown).
    peer : str
        The client's connection (``host:port`` of its CA circuit; empty when unknown).
        Two processes of one user on one host differ only here, so a device lock
        (:meth:`PVStore.add_lock`) tells its holder from every other client by it.
    """

    protocol: str = "python"
    host: str = ""
    user: str = ""
    peer: str = ""

    def __str__(self) -> str:
        who = f"{self.user or '?'}@{self.host or '?'}"
        return f"{who} ({self.protocol})"


def _patterns(name: str, value: Iterable[str] | str | None) -> tuple[str, ...] | None:
    if value is None:
        return None
    if isinstance(value, str):
        value = value.replace(",", " ").split()
    out = tuple(str(v).strip() for v in value if str(v).strip())
    if not out:
        raise ValidationError(f"{name} must name at least one host or user pattern (or be None for anyone)")
    return out


@dataclass(frozen=True, init=False)
class WriteRule:
    """Which clients may write hosted PVs: host and user name patterns (``fnmatch``).

    ``None`` for either means anyone. A client must match both lists. Python code in
    this process is never refused by the rule (it owns the PVs).

    Parameters
    ----------
    hosts, users : iterable of str, str or None
        Patterns such as ``"127.0.0.1"``, ``"beamline-ws*"``, ``"operator"``; a string
        may list several separated by commas or spaces.
    """

    hosts: tuple[str, ...] | None
    users: tuple[str, ...] | None

    def __init__(self, hosts: Iterable[str] | str | None = None,
                 users: Iterable[str] | str | None = None) -> None:
        object.__setattr__(self, "hosts", _patterns("hosts", hosts))
        object.__setattr__(self, "users", _patterns("users", users))

    @staticmethod
    def _match(value: str, patterns: tuple[str, ...] | None) -> bool:
        return patterns is None or any(fnmatch.fnmatchcase(value, p) for p in patterns)

    def allows(self, client: Client) -> bool:
        """True when ``client`` may write."""
        if client.protocol == "python":
            return True
        return self._match(client.host, self.hosts) and self._match(client.user, self.users)

    def check(self, client: Client, pv_name: str) -> None:
        """Raise :class:`PutRefusedError` naming the rule when ``client`` may not write."""
        if not self.allows(client):
            raise PutRefusedError(
                f"{pv_name}: writes from {client} are not allowed "
                f"(allowed hosts: {', '.join(self.hosts or ('any',))}; users: {', '.join(self.users or ('any',))})")

    @property
    def open(self) -> bool:
        """True when the rule lets anyone write."""
        return self.hosts is None and self.users is None
