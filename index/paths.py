"""Where the library lives: one data directory, chosen once."""

from __future__ import annotations

import os
from pathlib import Path

ENV_HOME = "PAPERS_HOME"


def data_home(explicit: str | os.PathLike | None = None) -> Path:
    """`--home`, else $PAPERS_HOME, else the platform's user data directory."""
    if explicit:
        return Path(explicit).expanduser().resolve()
    env = os.environ.get(ENV_HOME)
    if env:
        return Path(env).expanduser().resolve()
    import platformdirs  # only when no directory was given: it costs a few ms to import

    return Path(platformdirs.user_data_dir("papers", appauthor=False))
