"""Property tests: any array of an accepted shape and dtype gives a valid answer or InvalidImage."""

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from digitwidget.predictor import InvalidImage
from digitwidget.preprocess import SIZE, prepare

SHAPES = st.tuples(st.integers(1, 70), st.integers(1, 70)).flatmap(
    lambda hw: st.sampled_from([hw, hw + (1,), hw + (3,), hw + (4,)]))
UINT8 = arrays(np.uint8, SHAPES)
FLOATS = arrays(st.sampled_from([np.float32, np.float64]), SHAPES, elements=st.one_of(
    st.floats(0, 1, width=32), st.floats(-0.5, 1.5, width=32),
    st.sampled_from([np.nan, np.inf, -np.inf])))
BOOLS = arrays(np.bool_, SHAPES)
ANY_ARRAY = st.one_of(UINT8, FLOATS, BOOLS)


def check_prediction(r):
    p = r.probabilities
    assert p.shape == (10,) and p.dtype == np.float32 and np.isfinite(p).all()
    assert r.model_input.shape == (SIZE, SIZE)
    if r.digit is None:
        assert not p.any() and r.reason
    else:
        assert 0 <= p.min() and p.max() <= 1 and abs(float(p.sum()) - 1) < 1e-5
        assert r.digit == int(np.argmax(p))


@settings(max_examples=60, deadline=None)
@given(ANY_ARRAY)
def test_any_array_gives_a_valid_prediction_or_invalid_image(predictor, a):
    try:
        r = predictor.predict(a)
    except InvalidImage as err:
        assert len(str(err)) > 20
        return
    check_prediction(r)


@settings(max_examples=60, deadline=None)
@given(ANY_ARRAY)
def test_preprocessing_is_always_28x28_in_unit_range(a):
    try:
        prepared = prepare(a)
    except InvalidImage:
        return
    x = prepared.image
    assert x.shape == (SIZE, SIZE) and x.dtype == np.float32
    assert np.isfinite(x).all() and 0.0 <= x.min() <= x.max() <= 1.0


@settings(max_examples=30, deadline=None)
@given(st.lists(ANY_ARRAY, min_size=1, max_size=4))
def test_a_batch_is_valid_wherever_each_image_is(predictor, images):
    usable = []
    for a in images:
        try:
            prepare(a)
            usable.append(a)
        except InvalidImage:
            pass
    for r in predictor.predict_batch(usable):
        check_prediction(r)
