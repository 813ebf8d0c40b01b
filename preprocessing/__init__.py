"""Turn a person's drawing into a digit shaped like MNIST's: `to_mnist`."""

from preprocessing.errors import EmptyDrawingError, ImageTooLargeError
from preprocessing.inputs import MAX_PIXELS
from preprocessing.pipeline import to_mnist

__all__ = ["MAX_PIXELS", "EmptyDrawingError", "ImageTooLargeError", "to_mnist"]
