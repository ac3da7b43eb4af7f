"""MNIST parsing, verification and the download path, against a real local HTTP server."""

import gzip
import http.server
import shutil
import threading
from functools import partial

import numpy as np
import pytest

from digitwidget import data
from digitwidget.data import DataError, download_mnist, load_mnist, parse_idx, read_idx
from conftest import SHARED

MNIST = SHARED / "mnist"
pytestmark = pytest.mark.skipif(not MNIST.is_dir(), reason="needs ../shared/mnist")


def test_load_mnist_matches_the_known_figures():
    (x_train, y_train), (x_test, y_test) = load_mnist(MNIST)
    assert x_train.shape == (60000, 28, 28) and x_test.shape == (10000, 28, 28)
    assert x_train.dtype == np.uint8 and y_train.dtype == np.uint8
    assert list(y_train[:10]) == [5, 0, 4, 1, 9, 2, 1, 3, 1, 4]
    assert list(np.bincount(y_train)) == [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265,
                                          5851, 5949]
    assert abs(x_train.mean() / 255 - 0.1307) < 1e-4
    assert len(y_test) == 10000


def test_location_order(tmp_path, monkeypatch):
    monkeypatch.setattr(data, "KERAS_NPZ", tmp_path / "keras" / "mnist.npz")
    monkeypatch.delenv("DIGITWIDGET_DATA", raising=False)
    assert data.find_data() == data.CACHE_DIR
    data.KERAS_NPZ.parent.mkdir()
    data.KERAS_NPZ.write_bytes(b"")
    assert data.find_data() == data.KERAS_NPZ
    monkeypatch.setenv("DIGITWIDGET_DATA", str(tmp_path / "env"))
    assert data.find_data() == tmp_path / "env"
    assert data.find_data(tmp_path / "arg") == tmp_path / "arg"


def test_keras_npz_is_read_and_verified(tmp_path):
    (x_train, y_train), (x_test, y_test) = load_mnist(MNIST)
    npz = tmp_path / "mnist.npz"
    np.savez(npz, x_train=x_train, y_train=y_train, x_test=x_test, y_test=y_test)
    (a, b), (c, d) = load_mnist(npz)
    assert np.array_equal(a, x_train) and np.array_equal(d, y_test)
    y_bad = y_test.copy()
    y_bad[0] = (y_bad[0] + 1) % 10
    np.savez(npz, x_train=x_train, y_train=y_train, x_test=x_test, y_test=y_bad)
    with pytest.raises(DataError, match=r"mnist\.npz.*y_test"):
        load_mnist(npz)


def test_missing_file_is_named(tmp_path):
    shutil.copy(MNIST / "train-images-idx3-ubyte.gz", tmp_path)
    with pytest.raises(DataError, match="train-labels-idx1-ubyte.gz is missing"):
        load_mnist(tmp_path)


def test_plain_idx_files_are_read(tmp_path):
    with gzip.open(MNIST / "t10k-labels-idx1-ubyte.gz") as f:
        (tmp_path / "t10k-labels-idx1-ubyte").write_bytes(f.read())
    labels = read_idx(tmp_path / "t10k-labels-idx1-ubyte")
    assert labels.shape == (10000,)


def test_wrong_magic_truncated_and_corrupt_files(tmp_path):
    raw = gzip.open(MNIST / "t10k-labels-idx1-ubyte.gz").read()
    with pytest.raises(DataError, match="magic number 0x00000901"):
        parse_idx(b"\x00\x00\x09\x01" + raw[4:], "x")
    with pytest.raises(DataError, match="header promises 10008"):
        parse_idx(raw[:5000], "x")
    corrupt = bytearray(raw)
    corrupt[100] ^= 1
    path = tmp_path / "t10k-labels-idx1-ubyte.gz"
    path.write_bytes(gzip.compress(bytes(corrupt)))
    with pytest.raises(DataError, match=f"{path}.*does not match its checksum"):
        read_idx(path)
    path.write_bytes(gzip.compress(raw)[:2000])  # a cut-off gzip stream
    with pytest.raises(DataError, match=f"{path} is truncated or corrupt"):
        read_idx(path)


class TruncatingHandler(http.server.SimpleHTTPRequestHandler):
    """Promises the whole file in Content-Length, then hangs up halfway."""

    def do_GET(self):
        body = (MNIST / self.path.lstrip("/")).read_bytes()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body[:len(body) // 2])
        self.wfile.flush()
        self.close_connection = True

    def log_message(self, *args):
        pass


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture
def serve():
    """Start HTTP servers on free loopback ports; yields a factory returning base URLs."""
    servers = []

    def start(handler):
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return f"http://127.0.0.1:{server.server_address[1]}/"

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


def test_download_from_a_mirror(tmp_path, serve):
    good = serve(partial(QuietHandler, directory=str(MNIST)))
    empty = serve(partial(QuietHandler, directory=str(tmp_path)))  # answers 404
    target = tmp_path / "cache"
    download_mnist(target, mirrors=[empty, good], progress=False)
    assert sorted(p.name for p in target.iterdir()) == sorted(n + ".gz" for n in data.SHA256)
    (x_train, _), (_, y_test) = load_mnist(target)
    assert x_train.shape == (60000, 28, 28) and len(y_test) == 10000


def test_truncated_download_is_a_clear_error_and_leaves_nothing(tmp_path, serve):
    bad = serve(TruncatingHandler)
    target = tmp_path / "cache"
    with pytest.raises(DataError, match="Could not download MNIST file train-images"):
        download_mnist(target, mirrors=[bad], progress=False)
    assert list(target.iterdir()) == []


def test_truncated_file_served_whole_is_rejected(tmp_path, serve):
    site = tmp_path / "site"
    site.mkdir()
    for name in data.SHA256:
        body = (MNIST / (name + ".gz")).read_bytes()
        (site / (name + ".gz")).write_bytes(body[:len(body) - 100])
    url = serve(partial(QuietHandler, directory=str(site)))
    target = tmp_path / "cache"
    with pytest.raises(DataError, match="truncated or corrupt"):
        download_mnist(target, mirrors=[url], progress=False)
    assert list(target.iterdir()) == []
