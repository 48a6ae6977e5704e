"""Utilities: seeding, label encoding and the progress bar."""

from .._random import set_random_seed as set_random_seed
from ..layers._context import clear_session as clear_session
from ._numpy_utils import normalize as normalize
from ._numpy_utils import to_categorical as to_categorical
from ._progbar import Progbar as Progbar

__all__ = ["Progbar", "clear_session", "normalize", "set_random_seed", "to_categorical"]
