"""Shared test helpers: fixture digests written here, and the real data when it exists."""

from __future__ import annotations

import os
from datetime import datetime
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
SHARED = REPO.parent / "shared"
FIXTURES = Path(__file__).resolve().parent / "fixtures"

HEADER = (
    "new\n\nGet trending papers in your email inbox!\n\nSubscribe\n\nDaily Papers\n\n"
    "byAK and the research community\n\n"
)


def entry(title: str, abstract: str, meta: str | None = None) -> str:
    """One entry in page-dump layout; `meta` is the block after the abstract, if any."""
    text = f"{title}\n\n{abstract}\n\n"
    if meta:
        text += meta.strip("\n") + "\n\n"
    return text


def digest(date_line: str, *entries: str, header: bool = True) -> str:
    return (HEADER if header else "") + f"{date_line}\n\n" + "".join(entries)


def write(path: Path, text: str | bytes, mtime: str | None = "2025-12-10") -> Path:
    """Write a digest file; pin its mtime because the digest year can come from it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(text, str):
        path.write_text(text, encoding="utf-8")
    else:
        path.write_bytes(text)
    if mtime:
        ts = datetime.fromisoformat(mtime).timestamp()
        os.utime(path, (ts, ts))
    return path


@pytest.fixture
def home(tmp_path, monkeypatch) -> Path:
    """A fresh library directory, also set as $PAPERS_HOME for the CLI."""
    h = tmp_path / "home"
    monkeypatch.setenv("PAPERS_HOME", str(h))
    return h


@pytest.fixture
def shared_digests(tmp_path) -> Path:
    """The five real digests copied to a temporary folder with a pinned mtime (2025-12-10)."""
    src = SHARED / "digests"
    if not src.is_dir():
        pytest.skip("../shared is not present")
    out = tmp_path / "real"
    out.mkdir()
    for f in sorted(src.glob("*.txt")):
        write(out / f.name, f.read_bytes())
    return out


# -- the reader's tests share one built library per module -------------------------------


@pytest.fixture(scope="module")
def app_library(tmp_path_factory) -> Path:
    from _app_library import build_library

    return build_library(tmp_path_factory.mktemp("lib"))


@pytest.fixture
def app_home(app_library, tmp_path) -> Path:
    """A fresh copy of the module's library: each test has its own user data, and copying
    is cheaper than ingesting again."""
    import shutil

    mine = tmp_path / "app-home"
    shutil.copytree(app_library, mine)
    return mine


@pytest.fixture
def app(app_home, tmp_path):
    from papers.tui.app import PapersApp

    return PapersApp(app_home, export_dir=tmp_path, rescan=False)


# -- the command line's tests share the sample digests, added with `papers add` ----------


@pytest.fixture
def runner():
    from click.testing import CliRunner

    return CliRunner()


@pytest.fixture
def samples(home, tmp_path, runner) -> Path:
    """The sample digests, added to the library at `home` with `papers add`; their folder."""
    from papers.tui.cli import cli

    folder = tmp_path / "digests"
    for f in FIXTURES.glob("sample-*.txt"):
        write(folder / f.name, f.read_text("utf-8"))
    result = runner.invoke(cli, ["add", str(folder), "--json"])
    assert result.exit_code == 0, result.output
    return folder
