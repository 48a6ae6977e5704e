"""Keras's `keras.applications`: pretrained-architecture constructors with Keras's names.

Each family module (`vgg16`, `resnet50`, `resnet_v2`, ...) also holds its `preprocess_input`
and `decode_predictions`; `weights="imagenet"` loads Keras's own weight files.
"""

from kiln.applications import convnext as convnext
from kiln.applications import efficientnet as efficientnet
from kiln.applications import efficientnet_v2 as efficientnet_v2
from kiln.applications.convnext import ConvNeXtBase as ConvNeXtBase
from kiln.applications.convnext import ConvNeXtLarge as ConvNeXtLarge
from kiln.applications.convnext import ConvNeXtSmall as ConvNeXtSmall
from kiln.applications.convnext import ConvNeXtTiny as ConvNeXtTiny
from kiln.applications.convnext import ConvNeXtXLarge as ConvNeXtXLarge
from kiln.applications.efficientnet import EfficientNetB0 as EfficientNetB0
from kiln.applications.efficientnet import EfficientNetB1 as EfficientNetB1
from kiln.applications.efficientnet import EfficientNetB2 as EfficientNetB2
from kiln.applications.efficientnet import EfficientNetB3 as EfficientNetB3
from kiln.applications.efficientnet import EfficientNetB4 as EfficientNetB4
from kiln.applications.efficientnet import EfficientNetB5 as EfficientNetB5
from kiln.applications.efficientnet import EfficientNetB6 as EfficientNetB6
from kiln.applications.efficientnet import EfficientNetB7 as EfficientNetB7
from kiln.applications.efficientnet_v2 import EfficientNetV2B0 as EfficientNetV2B0
from kiln.applications.efficientnet_v2 import EfficientNetV2B1 as EfficientNetV2B1
from kiln.applications.efficientnet_v2 import EfficientNetV2B2 as EfficientNetV2B2
from kiln.applications.efficientnet_v2 import EfficientNetV2B3 as EfficientNetV2B3
from kiln.applications.efficientnet_v2 import EfficientNetV2L as EfficientNetV2L
from kiln.applications.efficientnet_v2 import EfficientNetV2M as EfficientNetV2M
from kiln.applications.efficientnet_v2 import EfficientNetV2S as EfficientNetV2S
from kiln.applications import densenet as densenet
from kiln.applications import mobilenet as mobilenet
from kiln.applications import mobilenet_v2 as mobilenet_v2
from kiln.applications import mobilenet_v3 as mobilenet_v3
from kiln.applications.densenet import DenseNet121 as DenseNet121
from kiln.applications.densenet import DenseNet169 as DenseNet169
from kiln.applications.densenet import DenseNet201 as DenseNet201
from kiln.applications.mobilenet import MobileNet as MobileNet
from kiln.applications.mobilenet_v2 import MobileNetV2 as MobileNetV2
from kiln.applications.mobilenet_v3 import MobileNetV3Large as MobileNetV3Large
from kiln.applications.mobilenet_v3 import MobileNetV3Small as MobileNetV3Small
from kiln.applications import inception_resnet_v2 as inception_resnet_v2
from kiln.applications import inception_v3 as inception_v3
from kiln.applications import nasnet as nasnet
from kiln.applications import xception as xception
from kiln.applications.inception_resnet_v2 import InceptionResNetV2 as InceptionResNetV2
from kiln.applications.inception_v3 import InceptionV3 as InceptionV3
from kiln.applications.nasnet import NASNetLarge as NASNetLarge
from kiln.applications.nasnet import NASNetMobile as NASNetMobile
from kiln.applications.xception import Xception as Xception
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

__all__ = ["InceptionResNetV2", "InceptionV3", "NASNetLarge", "NASNetMobile", "Xception", "inception_resnet_v2", "inception_v3", "nasnet", "xception",
           "DenseNet121", "DenseNet169", "DenseNet201", "MobileNet", "MobileNetV2", "MobileNetV3Large", "MobileNetV3Small", "densenet", "mobilenet", "mobilenet_v2", "mobilenet_v3",
           "ConvNeXtBase", "ConvNeXtLarge", "ConvNeXtSmall", "ConvNeXtTiny", "ConvNeXtXLarge", "EfficientNetB0", "EfficientNetB1", "EfficientNetB2", "EfficientNetB3", "EfficientNetB4", "EfficientNetB5", "EfficientNetB6", "EfficientNetB7", "EfficientNetV2B0", "EfficientNetV2B1", "EfficientNetV2B2", "EfficientNetV2B3", "EfficientNetV2S", "EfficientNetV2M", "EfficientNetV2L", "convnext", "efficientnet", "efficientnet_v2",
           "ResNet50", "ResNet101", "ResNet152", "ResNet50V2", "ResNet101V2", "ResNet152V2",
           "VGG16", "VGG19", "imagenet_utils", "resnet", "resnet50", "resnet_v2", "vgg16",
           "vgg19"]
