"""Layers: the building blocks of models (Keras 3 names, arguments and defaults)."""

from typing import Any as _Any

from .. import _registry, _serialization

from .._naming import clear_session as clear_session
from ._core import Activation as Activation
from ._core import Dense as Dense
from ._core import Dropout as Dropout
from ._core import Flatten as Flatten
from ._core import Input as Input
from ._core import InputLayer as InputLayer
from ._core import Reshape as Reshape
from ._input_spec import InputSpec as InputSpec
from ._layer import Layer as Layer
from ._stacked_cells import StackedRNNCells as StackedRNNCells
from ._symbolic import KerasTensor as KerasTensor
from . import _symbolic_ops as _symbolic_ops  # noqa: F401 (sets the graph hooks)
from ._conv import Conv1D as Conv1D
from ._conv import Conv2D as Conv2D
from ._conv import Conv3D as Conv3D
from ._conv import Conv1DTranspose as Conv1DTranspose
from ._conv import Conv2DTranspose as Conv2DTranspose
from ._conv import Conv3DTranspose as Conv3DTranspose
from ._conv_separable import DepthwiseConv1D as DepthwiseConv1D
from ._conv_separable import DepthwiseConv2D as DepthwiseConv2D
from ._conv_separable import SeparableConv1D as SeparableConv1D
from ._conv_separable import SeparableConv2D as SeparableConv2D
from ._pooling import MaxPooling1D as MaxPooling1D
from ._pooling import MaxPooling2D as MaxPooling2D
from ._pooling import MaxPooling3D as MaxPooling3D
from ._pooling import AveragePooling1D as AveragePooling1D
from ._pooling import AveragePooling2D as AveragePooling2D
from ._pooling import AveragePooling3D as AveragePooling3D
from ._pooling import GlobalMaxPooling1D as GlobalMaxPooling1D
from ._pooling import GlobalMaxPooling2D as GlobalMaxPooling2D
from ._pooling import GlobalMaxPooling3D as GlobalMaxPooling3D
from ._pooling import GlobalAveragePooling1D as GlobalAveragePooling1D
from ._pooling import GlobalAveragePooling2D as GlobalAveragePooling2D
from ._pooling import GlobalAveragePooling3D as GlobalAveragePooling3D
from ._reshaping import Permute as Permute
from ._reshaping import RepeatVector as RepeatVector
from ._reshaping import Cropping1D as Cropping1D
from ._reshaping import Cropping2D as Cropping2D
from ._reshaping import Cropping3D as Cropping3D
from ._reshaping import ZeroPadding1D as ZeroPadding1D
from ._reshaping import ZeroPadding2D as ZeroPadding2D
from ._reshaping import ZeroPadding3D as ZeroPadding3D
from ._reshaping import UpSampling1D as UpSampling1D
from ._reshaping import UpSampling2D as UpSampling2D
from ._reshaping import UpSampling3D as UpSampling3D
from ._lambda import Lambda as Lambda
from ._merging import Add as Add
from ._merging import Subtract as Subtract
from ._merging import Multiply as Multiply
from ._merging import Average as Average
from ._merging import Maximum as Maximum
from ._merging import Minimum as Minimum
from ._merging import Concatenate as Concatenate
from ._merging import Dot as Dot
from ._merging import add as add
from ._merging import subtract as subtract
from ._merging import multiply as multiply
from ._merging import average as average
from ._merging import maximum as maximum
from ._merging import minimum as minimum
from ._merging import concatenate as concatenate
from ._merging import dot as dot
from ._normalization import BatchNormalization as BatchNormalization
from ._normalization import LayerNormalization as LayerNormalization
from ._normalization import GroupNormalization as GroupNormalization
from ._normalization import RMSNormalization as RMSNormalization
from ._normalization import UnitNormalization as UnitNormalization
from ._regularization import SpatialDropout1D as SpatialDropout1D
from ._regularization import SpatialDropout2D as SpatialDropout2D
from ._regularization import SpatialDropout3D as SpatialDropout3D
from ._regularization import GaussianNoise as GaussianNoise
from ._regularization import GaussianDropout as GaussianDropout
from ._regularization import AlphaDropout as AlphaDropout
from ._regularization import ActivityRegularization as ActivityRegularization
from ._activation_layers import ReLU as ReLU
from ._activation_layers import LeakyReLU as LeakyReLU
from ._activation_layers import PReLU as PReLU
from ._activation_layers import ELU as ELU
from ._activation_layers import Softmax as Softmax
from ._embedding import Embedding as Embedding
from ._embedding import Masking as Masking
from ._preprocessing import Rescaling as Rescaling
from ._preprocessing import Normalization as Normalization
from ._preprocessing import CategoryEncoding as CategoryEncoding
from ._preprocessing import Discretization as Discretization
from ._preprocessing import StringLookup as StringLookup
from ._preprocessing import IntegerLookup as IntegerLookup
from ._preprocessing import TextVectorization as TextVectorization
from ._recurrent import RNN as RNN
from ._recurrent import SimpleRNN as SimpleRNN
from ._recurrent import LSTM as LSTM
from ._recurrent import GRU as GRU
from ._conv_lstm import ConvLSTM1D as ConvLSTM1D
from ._conv_lstm import ConvLSTM2D as ConvLSTM2D
from ._conv_lstm import ConvLSTM3D as ConvLSTM3D
from ._rnn_cells import SimpleRNNCell as SimpleRNNCell
from ._rnn_cells import LSTMCell as LSTMCell
from ._rnn_cells import GRUCell as GRUCell
from ._bidirectional import Bidirectional as Bidirectional
from ._attention import MultiHeadAttention as MultiHeadAttention
from ._group_query_attention import GroupQueryAttention as GroupQueryAttention
from ._dense_attention import Attention as Attention
from ._dense_attention import AdditiveAttention as AdditiveAttention
from ._wrappers import Identity as Identity
from ._wrappers import Wrapper as Wrapper
from ._wrappers import TimeDistributed as TimeDistributed
from ._wrappers import SpectralNormalization as SpectralNormalization
from ._einsum_dense import EinsumDense as EinsumDense
from ._image_preprocessing import Resizing as Resizing
from ._image_preprocessing import CenterCrop as CenterCrop
from ._image_preprocessing import RandomFlip as RandomFlip
from ._image_preprocessing import RandomBrightness as RandomBrightness
from ._image_preprocessing import RandomContrast as RandomContrast
from ._image_preprocessing import RandomInvert as RandomInvert
from ._image_affine import RandomRotation as RandomRotation
from ._image_affine import RandomZoom as RandomZoom
from ._image_affine import RandomTranslation as RandomTranslation
from ._image_affine import RandomCrop as RandomCrop
from ._color_augmentation import RandomGrayscale as RandomGrayscale
from ._color_augmentation import Solarization as Solarization
from ._color_augmentation import AutoContrast as AutoContrast
from ._color_augmentation import RandomPosterization as RandomPosterization
from ._color_augmentation import RandomColorDegeneration as RandomColorDegeneration
from ._color_augmentation import RandomSaturation as RandomSaturation
from ._color_augmentation import RandomHue as RandomHue
from ._image_filters import RandomSharpness as RandomSharpness
from ._image_filters import Equalization as Equalization
from ._image_filters import RandomColorJitter as RandomColorJitter
from ._mixing_augmentation import MixUp as MixUp
from ._mixing_augmentation import CutMix as CutMix
from ._mixing_augmentation import RandomErasing as RandomErasing
from ._image_warp_augmentation import RandomGaussianBlur as RandomGaussianBlur
from ._image_warp_augmentation import RandomShear as RandomShear
from ._image_warp_augmentation import RandomPerspective as RandomPerspective
from ._image_warp_augmentation import RandomElasticTransform as RandomElasticTransform
from ._image_policies import RandAugment as RandAugment
from ._image_policies import AugMix as AugMix
from ._image_policies import Pipeline as Pipeline
from ._image_policies import MaxNumBoundingBoxes as MaxNumBoundingBoxes
from ._adaptive_pooling import AdaptiveAveragePooling1D as AdaptiveAveragePooling1D
from ._adaptive_pooling import AdaptiveAveragePooling2D as AdaptiveAveragePooling2D
from ._adaptive_pooling import AdaptiveAveragePooling3D as AdaptiveAveragePooling3D
from ._adaptive_pooling import AdaptiveMaxPooling1D as AdaptiveMaxPooling1D
from ._adaptive_pooling import AdaptiveMaxPooling2D as AdaptiveMaxPooling2D
from ._adaptive_pooling import AdaptiveMaxPooling3D as AdaptiveMaxPooling3D

# Keras's alternative spellings.
Convolution1D = Conv1D
Convolution2D = Conv2D
Convolution3D = Conv3D
Convolution1DTranspose = Conv1DTranspose
Convolution2DTranspose = Conv2DTranspose
Convolution3DTranspose = Conv3DTranspose
SeparableConvolution1D = SeparableConv1D
SeparableConvolution2D = SeparableConv2D
MaxPool1D = MaxPooling1D
MaxPool2D = MaxPooling2D
MaxPool3D = MaxPooling3D
AvgPool1D = AveragePooling1D
AvgPool2D = AveragePooling2D
AvgPool3D = AveragePooling3D
GlobalMaxPool1D = GlobalMaxPooling1D
GlobalMaxPool2D = GlobalMaxPooling2D
GlobalMaxPool3D = GlobalMaxPooling3D
GlobalAvgPool1D = GlobalAveragePooling1D
GlobalAvgPool2D = GlobalAveragePooling2D
GlobalAvgPool3D = GlobalAveragePooling3D

from ._spectrogram import STFTSpectrogram as STFTSpectrogram
from ._spectrogram import MelSpectrogram as MelSpectrogram
from ._reversible_embedding import ReversibleEmbedding as ReversibleEmbedding
from ._preprocessing._hashing import Hashing as Hashing
from ._preprocessing._hashing import HashedCrossing as HashedCrossing
from ._jax_layer import JaxLayer as JaxLayer
from ._jax_layer import FlaxLayer as FlaxLayer

# Every layer class, registered under its Keras name (module "keras.layers").
for _layer_cls in [v for v in dict(globals()).values()
                   if isinstance(v, type) and issubclass(v, Layer)]:
    if _registry.builtin_name(_layer_cls) is None:
        _registry.register(_layer_cls, "layers")


def serialize(layer: Layer) -> dict:
    """A layer in Keras's format: `{"module", "class_name", "config", "registered_name",
    "build_config"}`.

    Example:
        >>> serialize(Dense(2, name="d"))["class_name"]
        'Dense'
    """
    return _serialization.serialize(layer)


def deserialize(config: dict, custom_objects: dict | None = None,
                safe_mode: bool | None = None) -> Layer:
    """Rebuilds a layer from `serialize`'s (or Keras's) dict; `custom_objects` maps the names
    of your own layers to their classes.

    Example:
        >>> deserialize(serialize(Dense(2, name="d"))).units
        2
    """
    return _serialization.deserialize(config, "layers", custom_objects, safe_mode, label="layer")

__all__ = [
    "RandomGaussianBlur", "RandomShear", "RandomPerspective", "RandomElasticTransform",
    "RandAugment", "AugMix", "Pipeline", "MaxNumBoundingBoxes",
    "STFTSpectrogram", "MelSpectrogram", "ReversibleEmbedding", "Hashing", "HashedCrossing",
    "JaxLayer", "FlaxLayer",
    "Activation", "ActivityRegularization", "Add", "AdditiveAttention", "AlphaDropout",
    "Attention", "Average", "AveragePooling1D", "AveragePooling2D", "AveragePooling3D",
    "AvgPool1D", "AvgPool2D", "AvgPool3D", "BatchNormalization", "Bidirectional",
    "CategoryEncoding", "Concatenate", "Conv1D", "Conv1DTranspose", "Conv2D", "Conv2DTranspose",
    "Conv3D", "Conv3DTranspose", "Convolution1D", "Convolution1DTranspose", "Convolution2D",
    "Convolution2DTranspose", "Convolution3D", "Convolution3DTranspose", "Cropping1D",
    "Cropping2D", "Cropping3D", "Dense", "DepthwiseConv1D", "DepthwiseConv2D", "Discretization",
    "Dot", "Dropout", "ELU", "Embedding", "Flatten", "GRU", "GRUCell", "GaussianDropout",
    "GaussianNoise", "GlobalAveragePooling1D", "GlobalAveragePooling2D",
    "GlobalAveragePooling3D", "GlobalAvgPool1D", "GlobalAvgPool2D", "GlobalAvgPool3D",
    "GlobalMaxPool1D", "GlobalMaxPool2D", "GlobalMaxPool3D", "GlobalMaxPooling1D",
    "GlobalMaxPooling2D", "GlobalMaxPooling3D", "GroupNormalization", "Input", "InputLayer",
    "IntegerLookup", "KerasTensor", "LSTM", "LSTMCell", "Lambda", "Layer", "LayerNormalization",
    "LeakyReLU", "Masking", "MaxPool1D", "MaxPool2D", "MaxPool3D", "MaxPooling1D",
    "MaxPooling2D", "MaxPooling3D", "Maximum", "Minimum", "MultiHeadAttention", "Multiply",
    "Normalization", "PReLU", "Permute", "RMSNormalization", "RNN", "ReLU", "RepeatVector",
    "Rescaling", "Reshape", "SeparableConv1D", "SeparableConv2D", "SeparableConvolution1D",
    "SeparableConvolution2D", "SimpleRNN", "SimpleRNNCell", "Softmax", "SpatialDropout1D",
    "SpatialDropout2D", "SpatialDropout3D", "StringLookup", "Subtract", "TextVectorization",
    "UnitNormalization", "UpSampling1D", "UpSampling2D", "UpSampling3D", "ZeroPadding1D",
    "ZeroPadding2D", "ZeroPadding3D", "Identity", "Wrapper", "TimeDistributed",
    "SpectralNormalization", "EinsumDense", "Resizing", "CenterCrop", "RandomFlip",
    "RandomBrightness", "RandomContrast", "RandomInvert", "RandomRotation", "RandomZoom",
    "RandomTranslation", "RandomCrop", "AdaptiveAveragePooling1D", "AdaptiveAveragePooling2D", "AdaptiveAveragePooling3D",
    "AdaptiveMaxPooling1D", "AdaptiveMaxPooling2D", "AdaptiveMaxPooling3D", "add", "average", "concatenate", "deserialize", "dot",
    "maximum", "minimum", "multiply", "serialize", "subtract", "ConvLSTM1D", "ConvLSTM2D",
    "ConvLSTM3D", "GroupQueryAttention", "RandomGrayscale", "Solarization", "AutoContrast",
    "RandomPosterization", "RandomColorDegeneration", "RandomSaturation", "RandomHue",
    "RandomSharpness", "Equalization", "RandomColorJitter", "MixUp", "CutMix", "RandomErasing",
]
