"""Everything below the screen: digest parsing, the Whoosh library, user data, export.

Nothing in this package imports Textual.
"""
