"""Unit tests for ctlshell.core._config (Config) and ctlshell.core._registry (BackendRegistry)."""

from __future__ import annotations

import dataclasses
import re
import sys
import tomllib
from pathlib import Path

import pytest

from ctlshell.backends.local import LocalBackend
from ctlshell.core import (
    AddressError,
    BackendRegistry,
    BackendUnavailableError,
    Config,
    PVStore,
    ValidationError,
)
from ctlshell.core._registry import INSTALL_HINTS

ROOT = Path(__file__).resolve().parents[2]

# -- Config ------------------------------------------------------------------


def test_defaults_from_empty_env() -> None:
    cfg = Config.from_env({})
    assert cfg == Config()
    assert (cfg.default_scheme, cfg.timeout, cfg.sweep_period) == ("ca", 5.0, 30.0)
    assert cfg.server_interfaces == ("127.0.0.1",)
    assert cfg.ca_server_port == 5064


def test_from_env_reads_every_setting() -> None:
    cfg = Config.from_env({
        "CTLSHELL_DEFAULT_SCHEME": "pva",
        "CTLSHELL_TIMEOUT": "2.5",
        "CTLSHELL_SWEEP_PERIOD": "10",
        "EPICS_CAS_INTF_ADDR_LIST": " 10.0.0.1  192.168.1.2 ",
        "EPICS_CA_SERVER_PORT": "6064",
    })
    assert cfg == Config("pva", 2.5, 10.0, ("10.0.0.1", "192.168.1.2"), 6064)


def test_from_env_empty_values_mean_defaults() -> None:
    cfg = Config.from_env({"CTLSHELL_DEFAULT_SCHEME": "", "CTLSHELL_TIMEOUT": "", "CTLSHELL_SWEEP_PERIOD": "",
                           "EPICS_CAS_INTF_ADDR_LIST": "  ", "EPICS_CA_SERVER_PORT": ""})
    assert cfg == Config()


def test_from_env_does_not_read_os_environ_when_given_a_mapping(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CTLSHELL_TIMEOUT", "99")
    assert Config.from_env({}).timeout == 5.0
    assert Config.from_env().timeout == 99.0


@pytest.mark.parametrize("env, match", [
    ({"CTLSHELL_TIMEOUT": "soon"}, r"CTLSHELL_TIMEOUT='soon' is not a number"),
    ({"CTLSHELL_SWEEP_PERIOD": "x"}, r"CTLSHELL_SWEEP_PERIOD='x' is not a number"),
    ({"CTLSHELL_TIMEOUT": "0"}, "timeout must be positive"),
    ({"CTLSHELL_TIMEOUT": "-1"}, "timeout must be positive"),
    ({"CTLSHELL_TIMEOUT": "nan"}, "timeout must be positive"),
    ({"CTLSHELL_SWEEP_PERIOD": "0"}, "sweep_period must be positive"),
    ({"CTLSHELL_DEFAULT_SCHEME": "http"}, "default_scheme must be one of"),
    ({"EPICS_CA_SERVER_PORT": "abc"}, r"EPICS_CA_SERVER_PORT='abc' is not a port number"),
    ({"EPICS_CA_SERVER_PORT": "-5"}, "is not a port number"),
    ({"EPICS_CA_SERVER_PORT": "70000"}, "ca_server_port must be 1..65535"),
    ({"EPICS_CA_SERVER_PORT": "0"}, "ca_server_port must be 1..65535"),
])
def test_from_env_validation_errors(env: dict[str, str], match: str) -> None:
    with pytest.raises(ValidationError, match=match):
        Config.from_env(env)


def test_config_is_frozen_and_validated_directly() -> None:
    cfg = Config()
    with pytest.raises(dataclasses.FrozenInstanceError):
        cfg.timeout = 1.0  # type: ignore[misc]
    with pytest.raises(ValidationError, match="server_interfaces must name at least one interface"):
        Config(server_interfaces=())
    with pytest.raises(ValidationError):
        Config(default_scheme="CA")


def test_replace_changes_known_keys_and_validates() -> None:
    cfg = Config()
    new = cfg.replace(timeout=1.5, default_scheme="local")
    assert (new.timeout, new.default_scheme) == (1.5, "local")
    assert cfg.timeout == 5.0  # the original is unchanged
    with pytest.raises(ValidationError, match="timeout must be positive"):
        cfg.replace(timeout=-1)


def test_replace_refuses_unknown_keys_and_lists_known() -> None:
    with pytest.raises(ValidationError) as exc:
        Config().replace(timeot=1.0, color="red")
    msg = str(exc.value)
    assert "unknown setting(s) ['color', 'timeot']" in msg
    assert "'timeout'" in msg and "'sweep_period'" in msg


def test_server_interfaces_as_plain_string_is_split_not_iterated() -> None:
    # a plain string must never become single characters (the loopback check would fail)
    assert Config(server_interfaces="127.0.0.1").server_interfaces == ("127.0.0.1",)  # type: ignore[arg-type]
    assert Config(server_interfaces="127.0.0.1 ::1").server_interfaces == ("127.0.0.1", "::1")  # type: ignore[arg-type]


def test_replace_with_wrong_type_is_a_validation_error() -> None:
    assert Config().replace(timeout="5").timeout == 5.0  # text typed at a prompt is fine
    with pytest.raises(ValidationError):
        Config().replace(timeout="five")
    with pytest.raises(ValidationError):
        Config().replace(ca_server_port=None)


# -- BackendRegistry ---------------------------------------------------------------


def test_factory_is_called_once_and_cached() -> None:
    calls: list[int] = []
    store = PVStore()

    def factory() -> LocalBackend:
        calls.append(1)
        return LocalBackend(store)

    reg = BackendRegistry({"local": factory})
    assert reg.schemes == ("local",)
    assert reg.loaded() == {}
    b = reg.get("local")
    assert isinstance(b, LocalBackend) and b.store is store
    assert reg.get("local") is b
    assert calls == [1]
    assert reg.loaded() == {"local": b}


def test_on_load_hears_each_backend_once_before_its_first_use() -> None:
    store = PVStore()
    heard: list[tuple[str, object, bool]] = []
    reg: BackendRegistry

    def on_load(scheme: str, backend: object) -> None:
        heard.append((scheme, backend, scheme in reg.loaded()))

    reg = BackendRegistry({"local": lambda: LocalBackend(store)}, on_load=on_load)
    b = reg.get("local")
    assert reg.get("local") is b
    assert heard == [("local", b, False)]  # once, before the registry hands it out


def test_unknown_scheme_is_an_address_error() -> None:
    reg = BackendRegistry({"local": lambda: LocalBackend(PVStore())})
    with pytest.raises(AddressError, match=r"no backend serves pva:// in this session \(known: local\)"):
        reg.get("pva")


def test_string_entry_imports_lazily() -> None:
    reg = BackendRegistry({"local": "ctlshell.backends.local:LocalBackend"})
    with pytest.raises(TypeError):  # LocalBackend needs a store: proves the class was imported and called
        reg.get("local")


@pytest.mark.parametrize("scheme, hint", [
    ("ca", "pip install 'ctlshell[ca]' (needs aioca)"),
    ("pva", "pip install 'ctlshell[pva]' (needs p4p)"),
    ("tango", "pip install 'ctlshell[tango]' (needs pytango)"),
])
def test_missing_library_gives_install_hint(scheme: str, hint: str, tmp_path: Path,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    mod = f"unit_fake_{scheme}_backend"
    (tmp_path / f"{mod}.py").write_text("import unit_no_such_library_xyz\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    reg = BackendRegistry({scheme: f"{mod}:Backend"})
    try:
        with pytest.raises(BackendUnavailableError) as exc:
            reg.get(scheme)
    finally:
        sys.modules.pop(mod, None)
    msg = str(exc.value)
    assert f"{scheme}:// needs a library that is not installed (unit_no_such_library_xyz)" in msg
    assert hint in msg
    assert isinstance(exc.value, ImportError)
    assert reg.loaded() == {}


def test_missing_library_for_scheme_without_hint() -> None:
    reg = BackendRegistry({"local": "unit_no_such_module_abc:X"})
    with pytest.raises(BackendUnavailableError, match="install the library local:// needs"):
        reg.get("local")


@pytest.mark.parametrize("scheme", sorted(INSTALL_HINTS))
def test_install_hints_name_extras_that_pyproject_defines(scheme: str) -> None:
    """``pip install 'ctlshell[pva]'`` must install p4p: the extra exists and holds the library."""
    extras = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["optional-dependencies"]
    match = re.fullmatch(r"pip install 'ctlshell\[(\w+)\]' \(needs (\w+)\)", INSTALL_HINTS[scheme])
    assert match, INSTALL_HINTS[scheme]
    extra, library = match.groups()
    assert extra in extras, f"the hint for {scheme}:// names ctlshell[{extra}], which pyproject.toml does not define"
    names = {re.split(r"[<>=!~\[; ]", req, maxsplit=1)[0] for req in extras[extra]}
    assert library in names, f"ctlshell[{extra}] does not install {library}: {extras[extra]}"
