"""Normalization layers (Keras 3 names, arguments and formulas) and their pure functions."""

from ._functions import (get_constraint, group_norm, layer_norm, moments, normalize,
                         rebuild_weight_args, rms_norm, unit_norm)
from ._layers import (BatchNormalization, GroupNormalization, LayerNormalization,
                      RMSNormalization, UnitNormalization)

__all__ = ["BatchNormalization", "GroupNormalization", "LayerNormalization",
           "RMSNormalization", "UnitNormalization", "get_constraint", "group_norm",
           "layer_norm", "moments", "normalize", "rebuild_weight_args", "rms_norm", "unit_norm"]
