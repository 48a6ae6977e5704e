"""Private implementation of `kiln.losses` (import from `kiln.losses`, not from here)."""
