"""The namespace (`papers.index`, `papers.tui`: nothing named `index` or `tui` is installed)
and lazy imports (`papers --help` and `papers tags` load no Whoosh, Textual or Rich)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest


def python(*args: str, cwd: Path, env: dict | None = None) -> subprocess.CompletedProcess:
    # No PYTHONPATH: what is importable is what is installed, plus the current folder.
    environ = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    return subprocess.run([sys.executable, *args], cwd=cwd, capture_output=True, text=True,
                          env={**environ, **(env or {})}, stdin=subprocess.DEVNULL, timeout=60)


@pytest.fixture
def folder_with_index_and_tui(tmp_path) -> Path:
    """A user's folder that happens to hold an `index.py` and a `tui.py` of its own."""
    for name in ("index", "tui"):
        (tmp_path / f"{name}.py").write_text(f"WHOSE = 'the folder {name}'\n"
                                             "import sys; print('loaded', __file__, "
                                             "file=sys.stderr)\n")
    return tmp_path


def test_the_folders_own_index_and_tui_are_theirs(folder_with_index_and_tui):
    for name in ("index", "tui"):
        proc = python("-c", f"import {name}; print({name}.WHOSE)", cwd=folder_with_index_and_tui)
        assert proc.returncode == 0, proc.stderr
        assert proc.stdout.strip() == f"the folder {name}"


def test_papers_runs_beside_a_folders_index_and_tui(folder_with_index_and_tui, tmp_path):
    from importlib.metadata import version

    proc = python("-m", "papers.tui", "--version", cwd=folder_with_index_and_tui)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == f"papers, version {version('papers-tui')}"
    assert "loaded" not in proc.stderr  # neither file was imported
    tags = python("-m", "papers.tui", "tags", cwd=folder_with_index_and_tui,
                  env={"PAPERS_HOME": str(tmp_path / "home")})
    assert (tags.returncode, tags.stdout.strip()) == (0, "no tags yet: `papers tag ID TAG`")
    assert "loaded" not in tags.stderr


@pytest.mark.parametrize("name", ["index", "tui"])
def test_nothing_named_index_or_tui_is_installed(tmp_path, name):
    proc = python("-c", f"import {name}", cwd=tmp_path)
    assert proc.returncode == 1
    assert f"ModuleNotFoundError: No module named '{name}'" in proc.stderr


# -- lazy imports -------------------------------------------------------------------------


def imported(*args: str, home: Path, cwd: Path) -> set[str]:
    """The top-level packages `python -X importtime -m papers.tui ARGS` imports."""
    proc = python("-X", "importtime", "-m", "papers.tui", *args, cwd=cwd,
                  env={"PAPERS_HOME": str(home)})
    assert proc.returncode in (0, 1), proc.stderr
    # Lines look like: "import time:   self [us] |  cumulative | imported package".
    names = [line.rsplit("|", 1)[1].strip() for line in proc.stderr.splitlines()
             if line.startswith("import time:") and line.count("|") == 2]
    assert names, proc.stderr
    return {name.split(".")[0] for name in names}


HEAVY = {"whoosh", "textual", "rich"}


@pytest.mark.parametrize("args", [["--help"], ["tags"], ["tags", "--json"], ["saved"]])
def test_commands_that_never_search_load_no_whoosh_textual_or_rich(tmp_path, args):
    assert imported(*args, home=tmp_path / "home", cwd=tmp_path) & HEAVY == set()


def test_the_import_check_sees_whoosh_when_a_command_searches(samples, home, tmp_path):
    """The check above can fail: a search does load Whoosh."""
    assert "whoosh" in imported("find", "pixtral", home=home, cwd=tmp_path)


@pytest.mark.parametrize("text", ["pixtral", "title:pixtral model"])
def test_a_one_shot_find_loads_no_numpy(samples, home, tmp_path, text):
    """numpy (~70 ms to import) is the reader's, for scoring as it types: a one-shot find,
    through the find cache or through Whoosh, would pay more than it saves."""
    found = imported("find", text, home=home, cwd=tmp_path)
    assert "papers" in found and "numpy" not in found
