"""Turn a person's drawing into digits shaped like MNIST's: `to_mnist`, `split_digits`."""

from preprocessing.errors import EmptyDrawingError, ImageTooLargeError, TooManyDigitsError
from preprocessing.inputs import MAX_PIXELS
from preprocessing.numbers import MAX_DIGITS, Judge, split_digits
from preprocessing.pipeline import to_mnist

__all__ = [
    "MAX_DIGITS",
    "MAX_PIXELS",
    "EmptyDrawingError",
    "ImageTooLargeError",
    "Judge",
    "TooManyDigitsError",
    "split_digits",
    "to_mnist",
]
