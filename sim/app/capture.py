"""The picture of the screen that "Save the class run" stores, taken in the browser.

``SaveButton`` is a Vue component (``capture.vue``): on a click it draws the page as the class
sees it — the viewport at its current scroll, one pixel a CSS pixel — into a canvas with
html-to-image (an npm package in the app's front-end cache, ``sim.app.assets``; nothing is
fetched from the internet at run time) and sends the PNG to the server as a data URL.
``decode_png`` checks what arrived before anything is written: a PNG of the size the browser
said, no larger than ``MAX_SIDE`` on a side.
"""

from __future__ import annotations

import base64
import binascii
import io
from collections.abc import Callable

import solara
from PIL import Image, UnidentifiedImageError

from sim.app.assets import FRONTEND_PACKAGES

CAPTURE_PACKAGE = next(
    f"{name}@{version}" for name, version in FRONTEND_PACKAGES if name == "html-to-image"
)
"""The path of html-to-image under the server's ``/_solara/cdn/``."""
DATA_URL_PREFIX = "data:image/png;base64,"
MAX_SIDE = 8000
"""The largest picture side accepted (a 4K screen at twice its pixel density is 7680)."""


class CaptureError(ValueError):
    """What the browser sent is not a picture of the screen."""


def decode_png(data_url: str, width: int, height: int) -> bytes:
    """The PNG bytes of ``data_url``; ``CaptureError`` unless it is a PNG of ``width`` x
    ``height``."""
    if not isinstance(data_url, str) or not data_url.startswith(DATA_URL_PREFIX):
        raise CaptureError("the browser sent no PNG data URL")
    try:
        data = base64.b64decode(data_url[len(DATA_URL_PREFIX) :], validate=True)
        with Image.open(io.BytesIO(data)) as picture:
            if picture.format != "PNG":
                raise CaptureError(f"the browser sent a {picture.format}, not a PNG")
            size = picture.size
            picture.verify()
    except (binascii.Error, UnidentifiedImageError, OSError, SyntaxError) as error:
        raise CaptureError(f"the browser's picture cannot be read: {error}") from error
    if size != (width, height) or max(size) > MAX_SIDE:
        raise CaptureError(f"the picture is {size[0]} x {size[1]}, the screen {width} x {height}")
    return data


@solara.component_vue("capture.vue")
def SaveButton(
    label: str,
    package: str,
    event_picture: Callable[[dict], None],
    event_failure: Callable[[str], None],
) -> None:
    """A button that takes the picture of the screen and hands it to ``event_picture`` as
    ``{"png": data URL, "width": ..., "height": ...}`` (``event_failure`` gets the browser's
    error message)."""
