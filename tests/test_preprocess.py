"""Preprocessing: drawings and pictures of all kinds to the MNIST-like 28x28 input."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from PIL import Image

from digitwidget.preprocess import (BOX, SIZE, InvalidImage, as_array, ink_map, prepare,
                                    preprocess, rasterise)

# A "7" with a bar: two strokes in a 100x100 box, placed and scaled by `seven`.
SEVEN = [[(10, 5), (90, 5), (40, 95)], [(30, 50), (75, 50)]]


def seven(size=280, at=(0.5, 0.5), height=0.6, brush=0.06):
    """Black-on-white canvas with the 7 of `height` x size, its box centred at `at`."""
    scale = height * size / 100
    x0, y0 = at[0] * size - 50 * scale, at[1] * size - 50 * scale
    strokes = [[(x0 + x * scale, y0 + y * scale) for x, y in s] for s in SEVEN]
    return rasterise(strokes, size, brush * size, supersample=2)


def bbox(a):
    rows, cols = np.flatnonzero(a.any(axis=1)), np.flatnonzero(a.any(axis=0))
    return rows[-1] - rows[0] + 1, cols[-1] - cols[0] + 1


def centre_of_mass(a):
    ys, xs = np.indices(a.shape)
    return (ys * a).sum() / a.sum(), (xs * a).sum() / a.sum()


def assert_mnist_like(x):
    assert x.shape == (SIZE, SIZE) and x.dtype == np.float32
    assert x.min() >= 0.0 and x.max() <= 1.0 and x.max() > 0.5
    assert max(bbox(x > 0)) in (BOX, BOX + 1)  # the longer side fills the 20 px box
    cy, cx = centre_of_mass(x)
    assert abs(cy - 14) <= 1.0 and abs(cx - 14) <= 1.0  # where MNIST puts it


@pytest.mark.parametrize("case", [
    dict(), dict(at=(0.2, 0.25), height=0.3), dict(at=(0.8, 0.7), height=0.35),
    dict(height=0.05, brush=0.01), dict(height=0.95, brush=0.02), dict(brush=0.12),
    dict(brush=0.01), dict(size=800), dict(size=96, brush=0.08)],
    ids=["centre", "top-left", "bottom-right", "tiny", "huge", "thick", "thin", "big-canvas",
         "small-canvas"])
def test_drawings_come_out_mnist_like(case):
    assert_mnist_like(preprocess(seven(**case)))


def test_position_on_the_canvas_does_not_matter():
    centred = preprocess(seven(at=(0.5, 0.5), height=0.4))
    corner = preprocess(seven(at=(0.25, 0.75), height=0.4))
    assert np.abs(centred - corner).max() < 0.05


def test_aspect_ratio_is_kept():
    tall = rasterise([[(140, 20), (140, 260)]], 280, 24)  # a "1": 24 wide, 264 high
    x = preprocess(tall)
    h, w = bbox(x > 0.05)
    assert h == BOX and 1 <= w <= 4


def test_light_on_dark_equals_dark_on_light():
    drawing = seven()
    assert np.allclose(preprocess(drawing), preprocess(255 - drawing), atol=1e-6)


def test_photo_like_grey_paper_and_pencil():
    drawing = seven().astype(np.float32) / 255
    photo = 0.75 - 0.45 * (1 - drawing)  # ink 0.30 on paper 0.75
    noise = np.random.default_rng(0).normal(0, 0.02, photo.shape)
    x = preprocess(np.clip(photo + noise, 0, 1).astype(np.float32))
    assert_mnist_like(x)
    assert np.abs(x - preprocess(drawing)).mean() < 0.05


@pytest.mark.parametrize("ink_colour", [0, 255], ids=["black-strokes", "white-strokes"])
def test_transparent_background_is_background(ink_colour):
    drawing = seven()
    rgba = np.zeros(drawing.shape + (4,), np.uint8)
    rgba[..., :3] = ink_colour
    rgba[..., 3] = 255 - drawing  # opaque where the ink is, transparent elsewhere
    assert np.abs(preprocess(rgba) - preprocess(drawing)).max() < 0.02  # 8-bit vs float path


def test_transparent_pixels_over_an_opaque_canvas():
    drawing = seven()
    opaque = np.dstack([drawing] * 3 + [np.full_like(drawing, 255)])
    rgba = opaque.copy()
    rgba[:40, :40, 3] = 0  # a transparent corner (holding black) is still background
    rgba[:40, :40, :3] = 0
    assert np.array_equal(preprocess(rgba), preprocess(opaque))


@pytest.mark.parametrize("blank", [
    np.full((280, 280), 255, np.uint8), np.zeros((280, 280), np.uint8),
    np.full((280, 280, 3), 128, np.uint8), np.zeros((280, 280, 4), np.uint8),
    (250 + np.random.default_rng(1).integers(0, 6, (280, 280))).astype(np.uint8)],
    ids=["white", "black", "grey", "transparent", "faint-noise"])
def test_blank_images_are_empty(blank):
    prepared = prepare(blank)
    assert prepared.empty and not prepared.image.any()


def test_a_dot_and_a_scribble_raise_a_concern():
    dot = prepare(rasterise([[(100, 100)]], 280, 12))
    assert dot.empty and "dot" in dot.concern
    scribble = rasterise([[(x, y) for y in range(30, 251, 10) for x in (30, 250)]], 280, 20)
    assert "scribble" in prepare(scribble).concern
    assert prepare(seven()).concern is None


def test_accepts_every_documented_input_kind(tmp_path):
    drawing = seven()
    expected = preprocess(drawing)
    pil = Image.fromarray(drawing)
    path = tmp_path / "seven.png"
    pil.save(path)
    inputs = [pil, pil.convert("RGB"), pil.convert("RGBA"), pil.convert("P"), drawing[..., None],
              np.dstack([drawing] * 3), drawing.astype(np.float32) / 255, drawing < 128,
              str(path), path, path.read_bytes(), drawing.astype(np.int64)]
    for image in inputs:
        x = preprocess(image)
        if image is not inputs[7]:  # the boolean one is binary: close, not equal
            assert np.abs(x - expected).max() < 0.02, type(image)
        assert_mnist_like(x)


def test_palette_image_with_a_transparent_colour():
    im = Image.fromarray(seven()).convert("P")
    im.info["transparency"] = im.getpixel((0, 0))  # the white background is transparent
    assert_mnist_like(preprocess(im))


@pytest.mark.parametrize("bad, words", [
    (np.zeros((280, 280, 5), np.uint8), "shape"),
    (np.zeros((4, 280), np.uint8), "too small"),
    (np.full((50, 50), 2.0), "[0, 1]"),
    (np.full((50, 50), np.nan), "NaN"),
    (np.zeros((50, 50), np.complex64), "complex"),
    ("no/such/file.png", "No image file"),
    (b"not an image", "Could not read"),
    (b"", "empty"),
    ([[0, 1], [1, 0]], "list"),
    (None, "NoneType"),
])
def test_unusable_input_says_what_is_wrong(bad, words):
    with pytest.raises(InvalidImage, match=None) as caught:
        as_array(bad)
    assert words in str(caught.value)
    assert isinstance(caught.value, ValueError)


def test_a_text_file_is_not_an_image(tmp_path):
    path = tmp_path / "notes.txt"
    path.write_text("hello")
    with pytest.raises(InvalidImage, match="Could not read"):
        preprocess(path)


@settings(max_examples=60, deadline=None)
@given(arrays(np.uint8, st.tuples(st.integers(8, 60), st.integers(8, 60),
                                  st.sampled_from([1, 3, 4]))))
def test_any_uint8_array_gives_a_valid_input(a):
    prepared = prepare(a)
    x = prepared.image
    assert x.shape == (SIZE, SIZE) and x.dtype == np.float32
    assert np.isfinite(x).all() and x.min() >= 0.0 and x.max() <= 1.0
    assert prepared.empty == (not x.any())


@settings(max_examples=40, deadline=None)
@given(arrays(np.float32, st.tuples(st.integers(8, 60), st.integers(8, 60)),
              elements=st.floats(0, 1, width=32)))
def test_any_float_array_gives_a_valid_input(a):
    x = preprocess(a)
    assert x.shape == (SIZE, SIZE) and np.isfinite(x).all() and 0 <= x.min() <= x.max() <= 1


def test_ink_map_polarity_and_noise():
    grey = np.full((20, 20, 1), 0.9, np.float32)
    grey[5:15, 9:11] = 0.1
    grey[0, 0] = 0.85  # paper texture: too faint to be ink
    ink = ink_map(grey)
    assert ink[10, 10] == 1.0 and ink[0, 0] == 0.0 and ink[2, 2] == 0.0


def test_rasterise_round_pen():
    dot = rasterise([[(50, 50)]], 100, 20)
    assert dot.dtype == np.uint8 and dot.shape == (100, 100)
    assert max(bbox(dot < 128)) in (20, 21)  # a disc as wide as the brush
    line = rasterise([[(20, 50), (80, 50)]], 100, 10)
    h, w = bbox(line < 128)
    assert h in (10, 11) and w in (70, 71)  # round caps add half the brush at each end
    smooth = rasterise([[(20, 50), (80, 53)]], 100, 10, supersample=4)
    assert ((smooth > 0) & (smooth < 255)).any()  # anti-aliased edges
    assert rasterise([], 100, 10).min() == 255


@pytest.mark.parametrize("side", [280, 800])
def test_uint8_fast_path_matches_the_float_path(side):
    """uint8 pictures take a table lookup and an 8-bit resize; floats the plain arithmetic.
    Both must make the same model input (up to 8-bit rounding), on big and small canvases."""
    k = side / 280
    drawing = rasterise([[(60 * k, 50 * k), (200 * k, 60 * k), (120 * k, 230 * k)],
                         [(90 * k, 140 * k), (190 * k, 140 * k)]], side, 17 * k)
    fast = prepare(drawing)
    exact = prepare(drawing.astype(np.float32) / 255.0)
    assert fast.empty == exact.empty and fast.concern == exact.concern
    assert np.abs(fast.image - exact.image).max() < 0.02
    assert np.corrcoef(fast.image.ravel(), exact.image.ravel())[0, 1] > 0.999


def test_mnist_digits_pass_through_nearly_unchanged():
    from digitwidget.data import load_mnist
    try:
        (_, _), (x, _) = load_mnist(download=False)
    except Exception as err:  # noqa: BLE001
        pytest.skip(f"MNIST not available here ({err})")
    same = [np.corrcoef(image.ravel(), preprocess(image).ravel())[0, 1] for image in x[:100]]
    assert np.median(same) > 0.99  # a few move by a pixel when rounding the centre of mass
