"""Keras's small datasets (`keras.datasets`), read from Keras's cache folder.

Each module has `load_data()`, reading the same files as Keras (in `$KERAS_HOME/datasets` or
`~/.keras/datasets`) and downloading them with `kiln.utils.get_file` when absent.

Example:
    >>> from kiln.datasets import mnist
    >>> mnist.load_data.__name__
    'load_data'
"""

from . import boston_housing as boston_housing
from . import california_housing as california_housing
from . import cifar10 as cifar10
from . import cifar100 as cifar100
from . import fashion_mnist as fashion_mnist
from . import imdb as imdb
from . import mnist as mnist
from . import reuters as reuters

__all__ = ["boston_housing", "california_housing", "cifar10", "cifar100", "fashion_mnist",
           "imdb", "mnist", "reuters"]
