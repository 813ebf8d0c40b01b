"""Errors raised while turning a drawing into an MNIST digit."""


class EmptyDrawingError(ValueError):
    """The drawing holds no ink: a blank canvas, one flat colour or fully transparent."""


class ImageTooLargeError(ValueError):
    """The image has more pixels than a drawing could need; it is refused before decoding."""


class TooManyDigitsError(ValueError):
    """The drawing splits into more digits than one number may hold (see `MAX_DIGITS`)."""
