"""Everything below the screen: digest parsing, the Whoosh library, user data, export.

Nothing in this package imports Textual.
"""

from index import _lean_imports

_lean_imports.load()
