"""Private implementation of `kiln.metrics` (see that module for the public surface)."""
