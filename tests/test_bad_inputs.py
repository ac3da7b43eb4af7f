"""Bad input to Predictor.predict: each case is answered in words, nothing else escapes.

Either a Prediction with `digit=None` and a `reason`, or `InvalidImage` whose message says
what is wrong. Images that are odd but readable (16-bit, CMYK, GIF, EXIF-rotated) read the
same as the plain 8-bit drawing they hold.
"""

import io
import struct
import zlib

import numpy as np
import pytest
from PIL import Image, ImageFile

from digitwidget.predictor import InvalidImage
from digitwidget.preprocess import MAX_SIDE, rasterise

SEVEN = [[(60, 50), (220, 50), (120, 240)], [(90, 140), (180, 140)]]


@pytest.fixture(scope="module")
def drawing():
    """A black-on-white 7, uint8 (280, 280)."""
    return rasterise(SEVEN, 280, 16, supersample=2)


def encode(image, format="PNG", **options):
    buffer = io.BytesIO()
    image.save(buffer, format=format, **options)
    return buffer.getvalue()


def png_header_claiming(width, height):
    """A tiny PNG whose header claims width x height 1-bit pixels (the data is a stub)."""
    def chunk(kind, data):
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))
    ihdr = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr)
            + chunk(b"IDAT", zlib.compress(b"\x00" * 16)) + chunk(b"IEND", b""))


def refuses(predictor, image, words):
    with pytest.raises(InvalidImage) as caught:
        predictor.predict(image)
    assert words in str(caught.value), str(caught.value)
    return str(caught.value)


def no_digit(predictor, image, words):
    r = predictor.predict(image)
    assert r.digit is None and not r.confident and not r.probabilities.any()
    assert words in r.reason, r.reason
    return r


# --- nothing to read: digit None with a reason -----------------------------------------

@pytest.mark.parametrize("image", [
    np.zeros((280, 280, 4), np.uint8), np.full((280, 280, 4), 255, np.uint8),
    np.full((280, 280), 255, np.uint8), np.zeros((280, 280), np.uint8),
    np.zeros((280, 280, 3), np.uint8), Image.new("RGBA", (280, 280), (0, 0, 0, 0))],
    ids=["transparent-canvas", "white-canvas", "full-white", "full-black", "full-black-rgb",
         "transparent-pil"])
def test_blank_images_are_no_digit(predictor, image):
    no_digit(predictor, image, "blank")


def test_a_fully_transparent_drawing_is_blank(predictor, drawing):
    rgba = np.dstack([drawing] * 3 + [np.zeros_like(drawing)])  # the 7 is there, invisible
    no_digit(predictor, rgba, "blank")


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_random_noise_is_no_digit(predictor, seed):
    noise = np.random.default_rng(seed).integers(0, 256, (280, 280, 3), dtype=np.uint8)
    no_digit(predictor, noise, "noise")


def test_gaussian_noise_on_grey_is_no_digit(predictor):
    noise = np.random.default_rng(3).normal(0.5, 0.2, (100, 100)).clip(0, 1)
    no_digit(predictor, noise, "noise")


def test_a_single_dot_is_no_digit(predictor):
    """A click leaves a dot: no answer, and why in words (the pad says "Not sure")."""
    no_digit(predictor, rasterise([[(140, 140)]], 280, 16), "dot")


# --- unusable input: InvalidImage with a sentence ----------------------------------------

@pytest.mark.parametrize("image", [np.zeros((1, 1), np.uint8), encode(Image.new("L", (1, 1)))],
                         ids=["array", "png"])
def test_a_1x1_image_is_too_small(predictor, image):
    refuses(predictor, image, "1x1 pixels: too small")


def test_a_20000px_png_is_refused_before_decoding(predictor, monkeypatch):
    data = encode(Image.new("1", (20000, 20000), 1))  # a real one: about 90 KB
    assert len(data) < 200_000
    monkeypatch.setattr(ImageFile.ImageFile, "load", lambda self: pytest.fail("decoded"))
    refuses(predictor, data, "too large to decode safely")
    refuses(predictor, png_header_claiming(20000, 20000), "too large to decode safely")


def test_an_image_over_the_size_limit_is_refused_before_decoding(predictor, monkeypatch,
                                                                 tmp_path):
    path = tmp_path / "wide.png"
    path.write_bytes(png_header_claiming(MAX_SIDE + 1, 100))  # well under Pillow's guard
    monkeypatch.setattr(ImageFile.ImageFile, "load", lambda self: pytest.fail("decoded"))
    message = refuses(predictor, path, f"larger than {MAX_SIDE} on a side")
    assert f"{MAX_SIDE + 1}x100" in message


@pytest.mark.parametrize("data, words", [
    (b"GIF89a this is not really a picture", "Could not read the bytes as an image"),
    ("hello, world".encode() * 100, "Could not read the bytes as an image"),
    (b"", "bytes are empty")], ids=["fake-gif", "text", "empty"])
def test_bytes_that_are_not_an_image(predictor, data, words):
    refuses(predictor, data, words)


def test_a_truncated_png(predictor, drawing):
    data = encode(Image.fromarray(drawing))
    refuses(predictor, data[:len(data) // 2], "truncated")


def test_a_text_file_with_a_png_name(predictor, tmp_path):
    path = tmp_path / "digit.png"
    path.write_text("not a png")
    refuses(predictor, path, f"Could not read {path} as an image")


@pytest.mark.parametrize("array", [np.full((50, 50), np.nan, np.float32),
                                   np.full((50, 50, 3), np.inf),
                                   np.where(np.eye(50) > 0, -np.inf, 0.5)],
                         ids=["nan", "inf", "some-minus-inf"])
def test_nan_and_inf_arrays(predictor, array):
    refuses(predictor, array, "NaN or infinite")


@pytest.mark.parametrize("array", [np.zeros((50, 50), np.complex64), np.zeros((50, 50), object),
                                   np.full((50, 50), 60000, np.uint16),
                                   np.full((50, 50), -3, np.int16), np.array([["a"] * 50] * 50)],
                         ids=["complex", "object", "uint16-over-255", "negative-int", "str"])
def test_wrong_dtype_arrays(predictor, array):
    refuses(predictor, array, "Cannot read an array of")


@pytest.mark.parametrize("array", [np.zeros((1, 50, 50, 1), np.uint8), np.zeros(784, np.uint8),
                                   np.zeros((50, 50, 5), np.uint8), np.zeros((50, 50, 2, 2)),
                                   np.array(0.5)],
                         ids=["batch-4d", "flat-784", "5-channels", "4d-float", "scalar"])
def test_wrong_shape_arrays(predictor, array):
    refuses(predictor, array, "must be (H, W), (H, W, 3) or (H, W, 4)")


def test_not_an_image_at_all(predictor):
    refuses(predictor, {"pixels": []}, "Cannot read a dict as an image")


# --- odd but readable files: read like the plain drawing -----------------------------------

def reads_like(predictor, image, drawing, tolerance):
    r = predictor.predict(image)
    expected = predictor.predict(drawing)
    assert r.digit is not None
    assert np.abs(r.model_input - expected.model_input).mean() < tolerance
    return r


def test_a_16_bit_png(predictor, drawing):
    grey = 0.3 + 0.45 * (drawing / 255.0)  # grey pencil on grey paper: not 0 or 65535
    sixteen = encode(Image.fromarray((grey * 65535).astype(np.uint16)))
    assert Image.open(io.BytesIO(sixteen)).mode.startswith("I")
    reads_like(predictor, sixteen, drawing, 0.01)


def test_a_cmyk_jpeg(predictor, drawing):
    data = encode(Image.fromarray(drawing).convert("CMYK"), "JPEG", quality=95)
    assert Image.open(io.BytesIO(data)).mode == "CMYK"
    reads_like(predictor, data, drawing, 0.03)


def test_a_palette_gif(predictor, drawing):
    data = encode(Image.fromarray(drawing).convert("P"), "GIF")
    assert Image.open(io.BytesIO(data)).mode == "P"
    reads_like(predictor, data, drawing, 0.01)


def test_an_animated_gif_reads_its_first_frame(predictor, drawing):
    one = rasterise([[(140, 40), (140, 240)]], 280, 16)
    frames = [Image.fromarray(drawing).convert("P"), Image.fromarray(one).convert("P")]
    buffer = io.BytesIO()
    frames[0].save(buffer, format="GIF", save_all=True, append_images=frames[1:])
    assert Image.open(io.BytesIO(buffer.getvalue())).n_frames == 2
    reads_like(predictor, buffer.getvalue(), drawing, 0.01)


def test_an_exif_rotated_photo_reads_upright(predictor, drawing, tmp_path):
    stored = Image.fromarray(drawing).transpose(Image.Transpose.ROTATE_90)  # as the sensor saw
    exif = Image.Exif()
    exif[0x0112] = 6  # "turn 90 degrees clockwise to display"
    path = tmp_path / "photo.jpg"
    stored.save(path, quality=95, exif=exif)
    upright = reads_like(predictor, path, drawing, 0.03)
    sideways = predictor.predict(np.asarray(stored))
    assert np.abs(upright.model_input - sideways.model_input).mean() > 0.05
    reads_like(predictor, Image.open(path), drawing, 0.03)  # an opened PIL image too
