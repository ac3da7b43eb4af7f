"""On-the-fly augmentation: an albumentations pipeline and a Keras PyDataset that applies it.

Each batch is augmented when Keras asks for it, in worker processes (albumentations is
CPU-bound Python and threads do not scale), with a random state derived from
(seed, epoch, batch index): the same config and seed give the same images in any worker.
"""

import math
import os

os.environ.setdefault("NO_ALBUMENTATIONS_UPDATE", "1")  # no network call at import

import albumentations as A
import cv2
import keras
import numpy as np

cv2.setNumThreads(1)  # workers are processes already; OpenCV's own threads only contend


def build_augmentation(cfg):
    """The albumentations pipeline from the `[augment]` section of a config.

    Every probability and magnitude comes from `cfg`; images are uint8 (28, 28),
    ink bright on black, and the border fills with background (0).
    """
    border = dict(border_mode=cv2.BORDER_CONSTANT, fill=0)
    return A.Compose([
        A.Affine(
            translate_percent=(-cfg["shift"], cfg["shift"]),
            scale=(1 - cfg["scale"], 1 + cfg["scale"]),
            rotate=(-cfg["rotate"], cfg["rotate"]),
            shear=(-cfg["shear"], cfg["shear"]),
            p=cfg["p_affine"], **border),
        A.OneOf([
            A.ElasticTransform(alpha=cfg["elastic_alpha"], sigma=cfg["elastic_sigma"], **border),
            A.GridDistortion(num_steps=5, distort_limit=cfg["grid_distort"], **border),
        ], p=cfg["p_distort"]),
        A.CropAndPad(px=(-cfg["crop_pad_px"], cfg["crop_pad_px"]), keep_size=True,
                     fill=0, p=cfg["p_crop_pad"]),
    ])


class MnistBatches(keras.utils.PyDataset):
    """Batches of (images, one-hot labels) for `model.fit`, augmented when `augment` is set.

    images: uint8 (N, 28, 28); labels: int (N,). Yields float32 (B, 28, 28, 1) in [0, 1]
    and float32 (B, 10). Shuffles at every epoch when `shuffle` is true.
    """

    def __init__(self, images, labels, batch_size, augment=None, shuffle=False, seed=0,
                 **kwargs):
        super().__init__(**kwargs)
        self.images, self.labels = images, labels
        self.batch_size, self.augment, self.shuffle, self.seed = batch_size, augment, shuffle, seed
        self.epoch = 0
        self.order = self._order()

    def _order(self):
        if not self.shuffle:
            return np.arange(len(self.images))
        return np.random.default_rng([self.seed, self.epoch]).permutation(len(self.images))

    def __len__(self):
        return math.ceil(len(self.images) / self.batch_size)

    def __getitem__(self, index):
        rows = self.order[index * self.batch_size:(index + 1) * self.batch_size]
        images = self.images[rows]
        if self.augment is not None:
            self.augment.set_random_seed(_batch_seed(self.seed, self.epoch, index))
            images = np.stack([self.augment(image=img)["image"] for img in images])
        x = images.astype(np.float32)[..., None] / 255.0
        y = keras.utils.to_categorical(self.labels[rows], 10).astype(np.float32)
        return x, y

    def on_epoch_end(self):
        self.epoch += 1
        self.order = self._order()


def _batch_seed(*parts):
    """A 32-bit seed that depends only on `parts`, the same in every worker process."""
    return int(np.random.SeedSequence(list(parts)).generate_state(1)[0])


def save_augmentation_grid(images, augment, path, per_digit=9, seed=0):
    """Save a grid: each row one original digit then `per_digit - 1` augmented versions."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    augment.set_random_seed(seed)
    rows = len(images)
    fig, axes = plt.subplots(rows, per_digit, figsize=(per_digit * 0.9, rows * 0.9))
    for r, img in enumerate(images):
        for c in range(per_digit):
            shown = img if c == 0 else augment(image=img)["image"]
            ax = axes[r, c]
            ax.imshow(shown, cmap="gray_r", vmin=0, vmax=255)
            ax.set_xticks([]), ax.set_yticks([])
            if r == 0:
                ax.set_title("original" if c == 0 else "augmented", fontsize=7)
    fig.suptitle("Augmentation samples: first column the MNIST digit, then on-the-fly variants",
                 fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
