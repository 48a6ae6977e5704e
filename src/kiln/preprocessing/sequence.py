"""`keras.preprocessing.sequence`: `pad_sequences`."""

from kiln.utils import pad_sequences as pad_sequences

__all__ = ["pad_sequences"]
