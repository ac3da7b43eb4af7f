"""Turn a drawing or a picture of a digit into the 28x28 input an MNIST model expects.

MNIST digits were size-normalised to fit a 20x20 box (aspect ratio kept, anti-aliased) and
centred in 28x28 by their centre of mass, white ink (1.0) on black (0.0). A drawing on a
280x280 canvas looks nothing like that until it is made to, step by step:

    image ─► ink map (grey, polarity, transparency, faint noise dropped)
          ─► crop to the ink ─► longer side to 20 px ─► 28x28, centre of mass in the middle

Everything is numpy and Pillow on whole arrays: about a millisecond for a 280x280 canvas.

The widget keeps its strokes in Python (the browser's pixels are not available without a
round trip), so this module also rasterises strokes the way a canvas draws them.
"""

import io
import math
import warnings
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageOps

SIZE = 28  # the model's input side
BOX = 20  # MNIST fits each digit's longer side into 20 px
NOISE = 0.15  # ink fainter than this (after contrast stretch) is paper texture, not ink
SOLID = 0.5  # ink at least this strong marks where the digit is (its bounding box)
MIN_CONTRAST = 0.15  # less difference than this between ink and background: a blank image
NOISY_EDGE = 0.25  # ink on more of the picture's edge than this: noise, not a digit
MAX_SIDE = 8192  # larger images are refused rather than processed for seconds
ORIENTATION = 0x0112  # the EXIF tag saying how a photo is to be turned for display


class InvalidImage(ValueError):
    """The input is not an image we can read as a digit; the message says why in words."""


@dataclass(frozen=True, eq=False)
class Prepared:
    """The model's input and what we noticed about the ink on the way."""

    image: np.ndarray  # (28, 28) float32 in [0, 1], ink 1.0, zeros when empty
    empty: bool  # nothing that looks like a digit's ink at all (blank, or noise)
    concern: str | None = None  # why the ink may not be a digit, in words; None when fine


# --- reading whatever we are given ------------------------------------------------------

def as_array(image):
    """Any accepted input as a float32 (H, W, C) array in [0, 1], C in {1, 3, 4}.

    Accepts a PIL image, a numpy array (H, W) / (H, W, 1|3|4) of uint8, bool, or floats in
    [0, 1], a path to an image file, or the bytes of one. Raises InvalidImage otherwise.
    """
    return _in_unit(_pixels(image))


def _pixels(image):
    """Like as_array, but uint8 pixels stay uint8: a quarter of the bytes to scan."""
    if isinstance(image, (str, Path)):
        image = _open_path(Path(image))
    elif isinstance(image, (bytes, bytearray, memoryview)):
        image = _open_bytes(bytes(image))
    if isinstance(image, Image.Image):
        return _from_pil(image)
    if isinstance(image, np.ndarray):
        return _from_numpy(image)
    raise InvalidImage(
        f"Cannot read a {type(image).__name__} as an image: give a PIL image, a numpy "
        "array (H, W), (H, W, 3) or (H, W, 4), a path to an image file, or its bytes.")


def _open_path(path):
    if not path.is_file():
        raise InvalidImage(f"No image file at {path}.")
    return _open(path, str(path))


def _open_bytes(data):
    if not data:
        raise InvalidImage("The image bytes are empty.")
    return _open(io.BytesIO(data), "the bytes")


def _open(source, what):
    """Open an image file, checking its size from the header before decoding any pixels.

    A small file can claim a huge image (a PNG of 20000x20000 one-bit pixels is a few KB):
    Pillow refuses the most extreme ones itself (DecompressionBombError), and we refuse
    anything over MAX_SIDE before `load()` spends seconds and gigabytes decoding it.
    Pillow's DecompressionBombWarning is made an error here: such images are refused anyway.
    """
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(source) as im:
                _check_size(*im.size)
                im.load()
                return im
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as err:
        raise InvalidImage(f"Refused to read {what}: the image is too large to decode "
                           f"safely ({err})") from None
    except OSError as err:
        raise InvalidImage(f"Could not read {what} as an image: {err}") from None
    except Exception as err:  # noqa: BLE001 - a decoder failing on odd bytes: still unreadable
        raise InvalidImage(f"Could not read {what} as an image ({type(err).__name__}: "
                           f"{err})") from err


def _check_size(w, h):
    if min(h, w) < 8:
        raise InvalidImage(f"The image is {w}x{h} pixels: too small to hold a digit (8x8 at least).")
    if max(h, w) > MAX_SIDE:
        raise InvalidImage(f"The image is {w}x{h} pixels: larger than {MAX_SIDE} on a side.")


def _from_pil(im):
    """Greyscale plus alpha if there is any transparency; everything else becomes L or LA.

    The EXIF orientation is applied first, so a phone photo reads the way it is shown.
    Pillow's convert("L") clips 16- and 32-bit integer pixels to 255 rather than scaling
    them (a 16-bit PNG would read as blank), so those are scaled from 0-65535 here.
    """
    if im.getexif().get(ORIENTATION, 1) != 1:
        im = ImageOps.exif_transpose(im)
    if im.mode in ("I", "I;16", "I;16B", "I;16L", "I;16N"):
        return _from_numpy(_wide_to_unit(np.asarray(im, np.float64), im.mode))
    has_alpha = "A" in im.getbands() or "transparency" in im.info
    try:
        im = im.convert("LA" if has_alpha else "L")
    except (OSError, ValueError) as err:
        raise InvalidImage(f"Could not convert the {im.mode} image to greyscale: {err}") from None
    return _from_numpy(np.asarray(im))


def _wide_to_unit(a, mode):
    """16-bit pixel values (0-65535) scaled to [0, 1]."""
    if a.size and (a.min() < 0 or a.max() > 65535):
        raise InvalidImage(f"The {mode} image's pixel values span [{a.min():.0f}, {a.max():.0f}]: "
                           "outside the 0-65535 of a 16-bit image.")
    return a / 65535.0


def _from_numpy(a):
    if a.ndim == 3 and a.shape[2] == 2:  # grey + alpha, as Pillow's LA gives
        a = np.concatenate([np.repeat(a[..., :1], 3, axis=2), a[..., 1:]], axis=2)
    if a.ndim == 2:
        a = a[..., None]
    if a.ndim != 3 or a.shape[2] not in (1, 3, 4):
        raise InvalidImage(
            f"An image array must be (H, W), (H, W, 3) or (H, W, 4); got shape {a.shape}.")
    _check_size(a.shape[1], a.shape[0])
    if a.dtype == np.uint8:
        return a
    if a.dtype == bool:
        return a.astype(np.float32)
    if np.issubdtype(a.dtype, np.floating):
        if not np.isfinite(a).all():
            raise InvalidImage("The image array holds NaN or infinite values.")
        if a.min() < 0.0 or a.max() > 1.0:
            raise InvalidImage(
                f"A float image must lie in [0, 1]; this one spans [{a.min():.3g}, {a.max():.3g}]. "
                "Divide by 255 if it holds 0-255 values.")
        return a.astype(np.float32)
    if np.issubdtype(a.dtype, np.integer) and a.size and a.min() >= 0 and a.max() <= 255:
        return a.astype(np.uint8)
    raise InvalidImage(f"Cannot read an array of {a.dtype} as an image: use uint8 (0-255) or "
                       "floats in [0, 1].")


def _in_unit(a):
    """uint8 pixels to float32 in [0, 1]; float32 pixels are already."""
    return a.astype(np.float32) / 255.0 if a.dtype == np.uint8 else a


# --- the ink map ------------------------------------------------------------------------

def ink_map(pixels):
    """Ink strength per pixel, 1.0 for ink and 0.0 for background, whatever the polarity.

    The background is what most of the image's border shows: light for a canvas or paper,
    dark for MNIST. Transparent pixels are background, so a transparent canvas with black or
    white strokes reads the same as an opaque one. The contrast is stretched so the strongest
    ink is 1.0 (a photo's grey pencil counts as ink), then faint values are dropped as noise.
    Returns zeros when there is no real contrast (a blank or nearly uniform image).
    """
    grey, alpha = _grey_and_alpha(pixels)
    scale = _ink_scale(grey, alpha)
    if scale is None:
        return np.zeros(grey.shape, np.float32)
    return _ink(grey, alpha, scale)


@dataclass(frozen=True)
class _Scale:
    """How grey (and alpha) values map to ink, fixed by the whole picture."""

    transparent: bool  # the background is transparent: the ink is the alpha channel
    background: float  # the background's grey level (when not transparent)
    strongest: float  # the strongest ink before stretching, mapped to 1.0


def _grey_and_alpha(pixels):
    grey = pixels[..., :3].mean(axis=2) if pixels.shape[2] >= 3 else pixels[..., 0]
    alpha = pixels[..., 3] if pixels.shape[2] == 4 else None
    return grey, alpha


def _ink_scale(grey, alpha):
    """The picture's background and strongest ink; None when there is no real contrast.

    `grey` may be uint8 (when `alpha` is None): only its border and extremes are scaled.
    """
    if alpha is not None and _border(alpha).mean() < 0.5:
        scale = _Scale(True, 0.0, float(alpha.max()))
    else:
        edge = _in_unit(_border(grey))
        edge = edge if alpha is None else edge[_border(alpha) >= 0.5]
        background = float(np.median(edge))
        # Opaque: the darkest or lightest pixel is the strongest ink (one pass, no ink map).
        extremes = grey if alpha is not None else _in_unit(np.array([grey.min(), grey.max()]))
        raw = _raw_ink(extremes, alpha, _Scale(False, background, 1.0))
        scale = _Scale(False, background, float(raw.max()))
    return scale if scale.strongest >= MIN_CONTRAST else None


def _raw_ink(grey, alpha, scale):
    """Ink before stretching: alpha on a transparent background, else distance from it."""
    if scale.transparent:
        return alpha
    if alpha is not None:  # transparent pixels show the background
        grey = grey * alpha + scale.background * (1.0 - alpha)
    return (scale.background - grey) if scale.background >= 0.5 else (grey - scale.background)


def _ink(grey, alpha, scale):
    """The ink map of (a part of) the picture: stretched to [0, 1], faint values dropped."""
    ink = np.clip(_raw_ink(grey, alpha, scale) / scale.strongest, 0.0, 1.0)
    ink[ink < NOISE] = 0.0
    return ink.astype(np.float32, copy=False)


def _ink_of(grey, alpha, scale):
    """The ink map of `grey` (a crop of the picture, or its border): uint8 0-255 ink for
    uint8 grey, float32 0-1 ink for float grey.

    uint8 grey has only 256 levels: their ink values are looked up in a table, one pass over
    a quarter of the bytes instead of five passes each making a new float array (on an
    800 px canvas those allocations alone cost a millisecond). Zero stays exactly zero.
    """
    if grey.dtype == np.uint8:
        levels = _ink(_in_unit(np.arange(256, dtype=np.uint8)), None, scale)
        return np.take(np.round(levels * 255).astype(np.uint8), grey)
    return _ink(grey, alpha, scale)


def _ink_box(grey, alpha, scale):
    """Slices of the rows and columns holding ink: everything after this works on the crop.

    An 800x800 canvas is 640,000 pixels and a digit's box often a quarter of them, so the
    float work is done on the crop only. For opaque pictures the box comes from one
    comparison on the grey values, uint8 ones compared as integers (a hair past the noise
    floor, so rounding never loses an inked pixel: the exact ink map of the crop decides).
    None when there is no ink.
    """
    if alpha is None:
        floor = NOISE * scale.strongest * (1.0 - 1e-5)
        unit = 255 if grey.dtype == np.uint8 else 1.0
        if scale.background >= 0.5:
            limit = (scale.background - floor) * unit
            inked = grey <= (math.floor(limit) if unit == 255 else limit)
        else:
            limit = (scale.background + floor) * unit
            inked = grey >= (math.ceil(limit) if unit == 255 else limit)
    else:
        inked = _ink(grey, alpha, scale) > 0
    rows = np.flatnonzero(inked.any(axis=1))
    if rows.size == 0:
        return None
    cols = np.flatnonzero(inked[rows[0]:rows[-1] + 1].any(axis=0))
    return slice(rows[0], rows[-1] + 1), slice(cols[0], cols[-1] + 1)


def _border(a):
    """The outermost ring of pixels, where a picture of one digit shows its background."""
    return np.concatenate([a[0], a[-1], a[1:-1, 0], a[1:-1, -1]])


# --- ink map to the MNIST frame -----------------------------------------------------------

def to_mnist(ink):
    """Crop an ink map to its ink, fit the longer side into 20 px, centre by mass in 28x28.

    `ink`: float32 in [0, 1], or uint8 0-255 (Pillow resizes those several times faster).
    The crop is the box of the solid ink (at least half strength): a few stray specks of
    paper noise above the noise floor would otherwise stretch the box and shrink the digit.
    """
    unit = 255.0 if ink.dtype == np.uint8 else 1.0
    solid = ink >= SOLID * unit
    rows = np.flatnonzero(solid.any(axis=1))
    cols = np.flatnonzero(solid.any(axis=0))
    if rows.size == 0:
        return np.zeros((SIZE, SIZE), np.float32)
    crop = ink[rows[0]:rows[-1] + 1, cols[0]:cols[-1] + 1]
    h, w = crop.shape
    scale = BOX / max(h, w)
    new_w, new_h = max(1, round(w * scale)), max(1, round(h * scale))
    # Pillow's resampling widens its filter when shrinking, so this is properly anti-aliased;
    # reducing_gap first box-averages a large crop by an integer factor (4x faster for an
    # 800 px canvas, within 0.03 of the one-step result).
    small = Image.fromarray(crop).resize((new_w, new_h), Image.BILINEAR, reducing_gap=3.0)
    small = np.clip(np.asarray(small, np.float32) / unit, 0.0, 1.0)
    return _centre_by_mass(small)


def _centre_by_mass(patch):
    """Place the patch in 28x28 so its centre of mass lands on the centre, as MNIST did.

    MNIST's centres of mass sit at pixel (14, 14) on average (measured on its test set),
    not at the geometric middle 13.5, so that is where ours go too.
    """
    h, w = patch.shape
    total = patch.sum()
    if total <= 0:
        return np.zeros((SIZE, SIZE), np.float32)
    cy = (patch.sum(axis=1) @ np.arange(h)) / total
    cx = (patch.sum(axis=0) @ np.arange(w)) / total
    top = int(np.clip(round(SIZE / 2 - cy), 0, SIZE - h))
    left = int(np.clip(round(SIZE / 2 - cx), 0, SIZE - w))
    out = np.zeros((SIZE, SIZE), np.float32)
    out[top:top + h, left:left + w] = patch
    return out


def concern_about(ink, size):
    """Why this ink may not be a digit, in words, or None when it looks like one.

    `ink` is the crop holding all the ink; `size` the whole picture's pixel count.
    """
    covered = float(np.count_nonzero(ink)) / size
    if covered > 0.5:
        return f"Ink covers {covered:.0%} of the picture: that looks like a scribble, not a digit."
    return None


def is_a_dot(ink, side):
    """A click, not a digit: a small blob (a tenth of the picture's `side` at most) that
    fills most of its box, as a disc does (79%). A tiny digit drawn with a fine pen is
    small too, but its strokes leave most of its box empty. `ink`: a crop holding the ink."""
    rows = np.flatnonzero(ink.any(axis=1))
    cols = np.flatnonzero(ink.any(axis=0))
    box = ink[rows[0]:rows[-1] + 1, cols[0]:cols[-1] + 1]
    return max(box.shape) < 0.1 * side and np.count_nonzero(box) > 0.6 * box.size


def looks_like_noise(border_ink):
    """Ink all along the picture's edge: speckle or texture, not one digit on a background.

    A picture of a digit shows its background around the edge (a digit touching the edge
    covers a few edge pixels). Random noise leaves "ink" on about half of them.
    """
    return np.count_nonzero(border_ink) > NOISY_EDGE * border_ink.size


def prepare(image):
    """Any accepted image to a Prepared: the 28x28 model input plus what we noticed.

    Noise and a lone dot are treated like a blank image (`empty`, no model input) with the
    concern saying so: a best guess of the model on speckle or a click would mean nothing.
    Raises InvalidImage for input that is not a usable image.
    """
    pixels = _pixels(image)
    if pixels.shape[2] > 1:  # colour or alpha: floats from here; grey uint8 waits for the crop
        pixels = _in_unit(pixels)
    grey, alpha = _grey_and_alpha(pixels)
    blank = Prepared(np.zeros((SIZE, SIZE), np.float32), empty=True)
    scale = _ink_scale(grey, alpha)
    box = None if scale is None else _ink_box(grey, alpha, scale)
    if box is None:
        return blank
    edge = _ink_of(_border(grey), None if alpha is None else _border(alpha), scale)
    if looks_like_noise(edge):
        return replace(blank, concern=(
            "The image looks like noise or texture (ink all along its edges), not a digit."))
    ink = _ink_of(grey[box], None if alpha is None else alpha[box], scale)
    if not ink.any():  # only ink at the noise floor, which the box's margin let in
        return blank
    if is_a_dot(ink, side=max(grey.shape)):
        return replace(blank, concern="The ink is only a dot: draw the digit larger.")
    return Prepared(to_mnist(ink), empty=False, concern=concern_about(ink, size=grey.size))


def preprocess(image):
    """Any accepted image to the (28, 28) float32 array the model sees."""
    return prepare(image).image


# --- strokes to pixels ------------------------------------------------------------------

def rasterise(strokes, size, brush, supersample=1):
    """Draw strokes (lists of (x, y) in canvas pixels) black on a white size x size image.

    Round caps and joins, like the canvas's pen. Pillow draws lines without anti-aliasing;
    `supersample` > 1 draws larger and shrinks, which anti-aliases (the model path does not
    need it: scaling the digit down to 20 px anti-aliases anyway). Returns uint8 (size, size).
    """
    width, height = (size, size) if np.isscalar(size) else size
    s = supersample
    canvas = Image.new("L", (width * s, height * s), 255)
    draw_strokes(canvas, strokes, brush, scale=s)
    if s > 1:
        canvas = canvas.reduce(s)
    return np.asarray(canvas)


def draw_strokes(picture, strokes, brush, scale=1):
    """Draw strokes black onto a Pillow "L" image, in place: round caps and joins.

    As DigitPad's canvas draws them: the polyline plus a disc at every point, which makes
    every joint and end round (Pillow's own joint="curve" computes its joints in Python,
    several times slower). DigitPad keeps one picture and adds each finished stroke to it,
    so a stroke's end costs drawing that stroke, not the whole digit again.
    """
    pen = ImageDraw.Draw(picture)
    w = max(1, round(brush * scale))
    r = brush * scale / 2
    for stroke in strokes:
        pts = [(float(x) * scale, float(y) * scale) for x, y in stroke]
        if len(pts) > 1:
            pen.line(pts, fill=0, width=w)
        for x, y in pts:
            pen.ellipse((x - r, y - r, x + r, y + r), fill=0)
