"""Keras's `keras.applications`: pretrained-architecture constructors with Keras's names.

Each family module (`vgg16`, `resnet50`, `resnet_v2`, ...) also holds its `preprocess_input`
and `decode_predictions`; `weights="imagenet"` loads Keras's own weight files.
"""

from kiln.applications import imagenet_utils as imagenet_utils
from kiln.applications import resnet as resnet
from kiln.applications import resnet50 as resnet50
from kiln.applications import resnet_v2 as resnet_v2
from kiln.applications import vgg16 as vgg16
from kiln.applications import vgg19 as vgg19
from kiln.applications.resnet import ResNet50 as ResNet50
from kiln.applications.resnet import ResNet101 as ResNet101
from kiln.applications.resnet import ResNet152 as ResNet152
from kiln.applications.resnet_v2 import ResNet50V2 as ResNet50V2
from kiln.applications.resnet_v2 import ResNet101V2 as ResNet101V2
from kiln.applications.resnet_v2 import ResNet152V2 as ResNet152V2
from kiln.applications.vgg16 import VGG16 as VGG16
from kiln.applications.vgg19 import VGG19 as VGG19

__all__ = ["ResNet50", "ResNet101", "ResNet152", "ResNet50V2", "ResNet101V2", "ResNet152V2",
           "VGG16", "VGG19", "imagenet_utils", "resnet", "resnet50", "resnet_v2", "vgg16",
           "vgg19"]
