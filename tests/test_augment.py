"""Augmentation keeps labels and shapes, stays in [0, 1], and is reproducible."""

import numpy as np
import pytest

from digitwidget.augment import MnistBatches, build_augmentation, save_augmentation_grid
from digitwidget.data import load_mnist
from digitwidget.train import load_config
from conftest import ROOT


@pytest.fixture(scope="module")
def mnist_subset():
    (x, y), _ = load_mnist()
    return x[:600], y[:600]


@pytest.fixture(scope="module")
def augment():
    return build_augmentation(load_config(ROOT / "configs" / "default.toml", quick=False)["augment"])


def test_batches_keep_labels_shapes_and_range(mnist_subset, augment):
    x, y = mnist_subset
    batches = MnistBatches(x, y, 128, augment, shuffle=True, seed=3)
    assert len(batches) == 5
    seen = []
    for i in range(len(batches)):
        xb, yb = batches[i]
        rows = batches.order[i * 128:(i + 1) * 128]
        assert xb.dtype == np.float32 and xb.shape == (len(rows), 28, 28, 1)
        assert 0.0 <= xb.min() and xb.max() <= 1.0
        assert np.array_equal(yb.argmax(axis=1), y[rows])
        np.testing.assert_allclose(yb.sum(axis=1), 1.0)
        seen.append(rows)
    assert sorted(np.concatenate(seen)) == list(range(600))  # every image once per epoch


def test_augmentation_changes_images_but_not_the_digit_mass(mnist_subset, augment):
    x, y = mnist_subset
    plain = MnistBatches(x, y, 100)[0][0]
    augmented = MnistBatches(x, y, 100, augment)[0][0]
    assert not np.allclose(plain, augmented)
    ink_ratio = augmented.sum(axis=(1, 2, 3)) / plain.sum(axis=(1, 2, 3))
    assert 0.5 < np.median(ink_ratio) < 1.5  # digits stay in frame, not erased or smeared


def test_same_seed_same_batch_new_epoch_new_batch(mnist_subset, augment):
    x, y = mnist_subset
    a = MnistBatches(x, y, 64, augment, shuffle=True, seed=7)
    b = MnistBatches(x, y, 64, augment, shuffle=True, seed=7)
    first = a[2][0]
    assert np.array_equal(first, b[2][0])
    a.on_epoch_end()
    assert not np.array_equal(first, a[2][0])


def test_augmentation_grid_is_written(mnist_subset, augment, tmp_path):
    save_augmentation_grid(mnist_subset[0][:3], augment, tmp_path / "grid.png", per_digit=4)
    assert (tmp_path / "grid.png").stat().st_size > 5000
