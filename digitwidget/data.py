"""MNIST: find it, download it when missing, verify it, parse it into numpy.

Where the files are looked for, first that exists (the design's location contract):
  1. the `data_dir` argument (`--data-dir` on the command line),
  2. the environment variable DIGITWIDGET_DATA,
  3. Keras's own cache, ~/.keras/datasets/mnist.npz,
  4. ~/.cache/digitwidget/mnist, downloaded there when missing.

Every file is checked against the sha256 of its *decompressed* IDX bytes, so a
re-compressed copy passes and a truncated or corrupt one fails with a message
that names the file and says what to do.
"""

import gzip
import http.client
import hashlib
import os
import shutil
import tempfile
import urllib.request
from pathlib import Path

import numpy as np

# sha256 of each decompressed IDX file (the same as ../shared/mnist/SHA256SUMS.raw).
SHA256 = {
    "train-images-idx3-ubyte": "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
    "train-labels-idx1-ubyte": "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",
    "t10k-images-idx3-ubyte": "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
    "t10k-labels-idx1-ubyte": "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2",
}
# Public mirrors of the original gzipped IDX files, tried in order.
MIRRORS = [
    "https://ossci-datasets.s3.amazonaws.com/mnist/",
    "https://storage.googleapis.com/cvdf-datasets/mnist/",
]
IDX_MAGIC = {1: 0x00000801, 3: 0x00000803}  # labels, images (unsigned bytes)
KERAS_NPZ = Path.home() / ".keras" / "datasets" / "mnist.npz"
CACHE_DIR = Path.home() / ".cache" / "digitwidget" / "mnist"


class DataError(RuntimeError):
    """MNIST is missing, truncated or corrupt; the message names the file and the fix."""


def find_data(data_dir=None):
    """Return the path MNIST is read from: a folder of IDX files or Keras's mnist.npz."""
    if data_dir is not None:
        return Path(data_dir)
    if os.environ.get("DIGITWIDGET_DATA"):
        return Path(os.environ["DIGITWIDGET_DATA"])
    if KERAS_NPZ.exists():
        return KERAS_NPZ
    return CACHE_DIR


def load_mnist(data_dir=None, download=True):
    """Return ((x_train, y_train), (x_test, y_test)) as uint8 arrays, (N, 28, 28) and (N,).

    Downloads into ~/.cache/digitwidget/mnist only when no other location applies.
    """
    where = find_data(data_dir)
    if where.suffix == ".npz":
        return _load_npz(where)
    if download and where == CACHE_DIR and not _all_present(where):
        download_mnist(where)
    arrays = {name: read_idx(_idx_path(where, name), name) for name in SHA256}
    return ((arrays["train-images-idx3-ubyte"], arrays["train-labels-idx1-ubyte"]),
            (arrays["t10k-images-idx3-ubyte"], arrays["t10k-labels-idx1-ubyte"]))


def _all_present(folder):
    return all(_idx_path(folder, name, must_exist=False).exists() for name in SHA256)


def _idx_path(folder, name, must_exist=True):
    """The file for `name` in `folder`: gzipped or plain, whichever is there."""
    folder = Path(folder)
    for candidate in (folder / (name + ".gz"), folder / name):
        if candidate.exists():
            return candidate
    if must_exist:
        raise DataError(
            f"MNIST file {folder / (name + '.gz')} is missing. Put the four MNIST files in "
            f"{folder}, point DIGITWIDGET_DATA at a folder that has them, or delete the "
            f"folder to let digitwidget download them.")
    return folder / (name + ".gz")


def _read_bytes(path):
    """The decompressed content of an IDX file, gzipped or not."""
    try:
        with open(path, "rb") as f:
            head = f.read(2)
        if head == b"\x1f\x8b":
            with gzip.open(path, "rb") as f:
                return f.read()
        return Path(path).read_bytes()
    except (OSError, EOFError, gzip.BadGzipFile) as e:
        raise DataError(f"MNIST file {path} is truncated or corrupt ({e}). "
                        "Delete it and download it again.") from e


def parse_idx(raw, source="IDX data"):
    """Parse IDX bytes (unsigned-byte data) into a numpy array, checking magic and size."""
    if len(raw) < 8:
        raise DataError(f"{source} is too short to be an IDX file ({len(raw)} bytes).")
    magic = int.from_bytes(raw[:4], "big")
    ndim = magic & 0xFF
    if magic not in IDX_MAGIC.values():
        raise DataError(f"{source} has magic number {magic:#010x}, not an MNIST IDX file "
                        "(expected 0x00000801 for labels or 0x00000803 for images).")
    header = 4 + 4 * ndim
    shape = tuple(int.from_bytes(raw[4 + 4 * i: 8 + 4 * i], "big") for i in range(ndim))
    expected = header + int(np.prod(shape))
    if len(raw) != expected:
        raise DataError(f"{source} holds {len(raw)} bytes but its header promises {expected} "
                        f"(shape {shape}): the file is truncated or corrupt.")
    return np.frombuffer(raw, dtype=np.uint8, offset=header).reshape(shape)


def read_idx(path, name=None):
    """Read one IDX file, verify its decompressed sha256 when its name is known."""
    path = Path(path)
    raw = _read_bytes(path)
    name = name or path.name.removesuffix(".gz")
    if name in SHA256 and hashlib.sha256(raw).hexdigest() != SHA256[name]:
        arr = parse_idx(raw, str(path))  # a wrong magic or size gets the more precise message
        raise DataError(f"MNIST file {path} does not match its checksum (shape {arr.shape}): "
                        "it is corrupt or not the original MNIST. Delete it and download it again.")
    return parse_idx(raw, str(path))


def _idx_bytes(arr):
    """Rebuild the IDX bytes of an array, to verify Keras's npz against the same sha256s."""
    magic = IDX_MAGIC[arr.ndim].to_bytes(4, "big")
    dims = b"".join(int(d).to_bytes(4, "big") for d in arr.shape)
    return magic + dims + np.ascontiguousarray(arr, dtype=np.uint8).tobytes()


def _load_npz(path):
    try:
        with np.load(path, allow_pickle=False) as z:
            arrays = {k: z[k] for k in ("x_train", "y_train", "x_test", "y_test")}
    except (OSError, ValueError, KeyError, EOFError) as e:
        raise DataError(f"MNIST file {path} is not a readable Keras mnist.npz ({e}). "
                        "Delete it and let Keras or digitwidget download it again.") from e
    names = dict(zip(arrays, ["train-images-idx3-ubyte", "train-labels-idx1-ubyte",
                              "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"]))
    for key, name in names.items():
        if hashlib.sha256(_idx_bytes(arrays[key])).hexdigest() != SHA256[name]:
            raise DataError(f"MNIST file {path}: its {key} does not match the MNIST checksum. "
                            "Delete it and download it again.")
    return (arrays["x_train"], arrays["y_train"]), (arrays["x_test"], arrays["y_test"])


def download_mnist(folder=CACHE_DIR, mirrors=None, progress=True, timeout=30):
    """Download the four gzipped MNIST files into `folder`, trying each mirror in turn.

    Each file goes to a temporary name, is verified, then renamed: an interrupted or
    truncated download never leaves a file that looks complete.
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    mirrors = list(mirrors or MIRRORS)
    for name in SHA256:
        target = folder / (name + ".gz")
        if target.exists():
            continue
        errors = []
        for mirror in mirrors:
            url = mirror.rstrip("/") + "/" + name + ".gz"
            try:
                _fetch_verified(url, target, name, progress, timeout)
                break
            except (OSError, http.client.HTTPException, DataError) as e:
                errors.append(f"  {url}: {e}")
        else:
            raise DataError(f"Could not download MNIST file {name}.gz into {folder}:\n"
                            + "\n".join(errors)
                            + "\nCheck the network, or copy the files there by hand.")


def _fetch_verified(url, target, name, progress, timeout):
    from tqdm.auto import tqdm

    fd, tmp = tempfile.mkstemp(prefix=name + ".", suffix=".part", dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as out, urllib.request.urlopen(url, timeout=timeout) as resp:
            total = int(resp.headers.get("Content-Length") or 0) or None
            with tqdm(total=total, unit="B", unit_scale=True, desc=name,
                      disable=not progress) as bar:
                while chunk := resp.read(1 << 16):
                    out.write(chunk)
                    bar.update(len(chunk))
            if total is not None and out.tell() != total:
                raise DataError(f"download stopped after {out.tell()} of {total} bytes")
        read_idx(tmp, name)  # raises DataError when truncated or corrupt
        shutil.move(tmp, target)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)
