"""Everything a person touches: the Click CLI and the Textual reader."""
