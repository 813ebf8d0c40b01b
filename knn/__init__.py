"""From-scratch k-nearest-neighbours for handwritten digits.

Example::

    import knn
    model = knn.load_model()          # MNIST; features cached after the first call
    result = model.classify(image)    # image: uint8 (28, 28), 0 paper, 255 ink
    result.label, result.probabilities, result.neighbours[0].distance
"""

from knn.data import (
    MNIST,
    MNISTChecksumError,
    MNISTError,
    MNISTFolderError,
    MNISTFormatError,
    MNISTNotFoundError,
    load_mnist,
)
from knn.engine import KNNClassifier, NotFittedError
from knn.fallback import load_model_or_fallback
from knn.features import extract_features
from knn.judge import DigitJudge, load_judge
from knn.model import Classification, DigitModel, Neighbour, load_model
from knn.params import ModelParams

__all__ = [
    "MNIST",
    "Classification",
    "DigitJudge",
    "DigitModel",
    "KNNClassifier",
    "MNISTChecksumError",
    "MNISTError",
    "MNISTFolderError",
    "MNISTFormatError",
    "MNISTNotFoundError",
    "ModelParams",
    "Neighbour",
    "NotFittedError",
    "extract_features",
    "load_judge",
    "load_mnist",
    "load_model",
    "load_model_or_fallback",
]
