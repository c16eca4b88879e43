"""The version of papers: one line that pyproject.toml reads when building, and that
`papers --version` prints without asking the installed metadata."""

__version__ = "0.1.0"
