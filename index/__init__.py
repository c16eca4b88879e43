"""Everything below the screen: digest parsing, the Whoosh library, user data, export.

Nothing in this package imports Textual, and importing it imports nothing else: commands
that never search (`papers --help`, `papers tags`) must not pay for Whoosh.
"""
