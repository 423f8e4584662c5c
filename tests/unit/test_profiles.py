"""ctlshell.profiles: the shipped profile directories, a site's beside them, bad names and directories."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from ctlshell import ValidationError, profiles

ROOT = Path(__file__).resolve().parents[2]


def site_profile(where: Path, name: str, *startup: str, config: bool = True) -> Path:
    d = where / name
    (d / "startup").mkdir(parents=True)
    if config:
        (d / "ipython_config.py").write_text("c = get_config()\n")
    for f in startup:
        (d / "startup" / f).write_text("\n")
    return d


def test_the_shipped_profiles_are_ipython_profile_directories_reached_through_the_top_level_link():
    assert (ROOT / "profiles").resolve() == profiles.BUILTIN_DIR
    for name in ("default", "demo"):
        p = profiles.find(name)
        assert p.path == (ROOT / "profiles" / name).resolve()
        assert p.config_file is not None and "extensions" in p.config_file.read_text()
        assert p.startup_files(), name
    assert [f.name for f in profiles.find("demo").startup_files()] == ["00-verbs.py", "10-demo-beamline.py"]


def test_startup_files_run_in_name_order_py_and_ipy_together(tmp_path):
    d = site_profile(tmp_path, "site", "20-b.ipy", "10-a.py", "30-c.py", "notes.txt")
    assert [f.name for f in profiles.from_dir(d).startup_files()] == ["10-a.py", "20-b.ipy", "30-c.py"]


def test_a_site_path_is_searched_first_and_its_profiles_are_listed(tmp_path, monkeypatch):
    one, two = tmp_path / "one", tmp_path / "two"
    site_profile(one, "beamline7", "00-x.py")
    site_profile(two, "default", "00-y.py")  # a site may replace the shipped default
    (one / "not-a-profile").mkdir()
    monkeypatch.setenv(profiles.PATH_VARIABLE, os.pathsep.join([str(one), str(two)]))
    assert profiles.find("beamline7").path == (one / "beamline7").resolve()
    assert profiles.find("default").path == (two / "default").resolve()
    assert profiles.find("demo").path == profiles.BUILTIN_DIR / "demo"
    assert profiles.names() == ["beamline7", "default", "demo"]


def test_bad_names_and_directories_say_so_in_one_line(tmp_path, monkeypatch):
    monkeypatch.delenv(profiles.PATH_VARIABLE, raising=False)
    with pytest.raises(ValidationError, match=r"^no ctlshell profile 'nope'; profiles: default, demo$"):
        profiles.find("nope")
    for bad in ("../demo", "", "..", "a/b"):
        with pytest.raises(ValidationError, match="is not a profile name"):
            profiles.find(bad)
    with pytest.raises(ValidationError, match="does not exist"):
        profiles.from_dir(tmp_path / "missing")
    (tmp_path / "empty").mkdir()
    with pytest.raises(ValidationError, match="neither ipython_config.py nor startup/"):
        profiles.from_dir(tmp_path / "empty")
    assert not list((tmp_path / "empty").iterdir()), "a rejected directory is left as it was"


def test_resolve_takes_a_name_or_a_directory(tmp_path):
    d = site_profile(tmp_path, "mine", config=False)
    assert profiles.resolve("demo").path == profiles.BUILTIN_DIR / "demo"
    assert profiles.resolve(str(d)) == profiles.Profile("mine", d.resolve())
    with pytest.raises(ValidationError, match="does not exist"):
        profiles.resolve(str(tmp_path / "nope"))


def test_a_site_path_given_as_data_wins_over_the_environment(tmp_path, monkeypatch):
    given, env = tmp_path / "given", tmp_path / "env"
    site_profile(given, "beamline7", "00-x.py")
    site_profile(env, "beamline7", "00-y.py")
    monkeypatch.setenv(profiles.PATH_VARIABLE, str(env))
    assert profiles.find("beamline7", site=[given]).path == (given / "beamline7").resolve()
    assert profiles.find("beamline7").path == (env / "beamline7").resolve()
    assert profiles.names(site=[]) == ["default", "demo"]
    with pytest.raises(ValidationError, match=r"profiles: default, demo$"):
        profiles.resolve("beamline7", site=[])
