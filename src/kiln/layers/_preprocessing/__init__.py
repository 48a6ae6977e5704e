"""Preprocessing layers (Keras 3 names, arguments and numbers).

Numeric layers (Rescaling, Normalization, CategoryEncoding, Discretization, and
IntegerLookup on JAX arrays) are pure jax.numpy and work inside a jitted model. String
layers (StringLookup, TextVectorization) run on the host with NumPy: apply them to the data
before `fit`, as Keras users do in `tf.data`. Every `adapt` runs on the host.
"""

from ._discretization import Discretization
from ._encoding import encode_categorical
from ._farmhash import fingerprint64
from ._index_lookup import IndexLookup
from ._lookup import IntegerLookup, StringLookup
from ._numeric import CategoryEncoding, Normalization, Rescaling
from ._text import TextVectorization

__all__ = ["CategoryEncoding", "Discretization", "IndexLookup", "IntegerLookup", "Normalization",
           "Rescaling", "StringLookup", "TextVectorization", "encode_categorical", "fingerprint64"]
