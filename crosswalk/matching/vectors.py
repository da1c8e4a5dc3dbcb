"""Text vectors: stemmed TF-IDF, sentence embeddings and their cache in the database."""

from __future__ import annotations

import collections
import hashlib
import math

import numpy as np
import scipy.sparse as sp

from .. import embeddings
from .. import text as textmod
from ..db import write_transaction
from .base import _groups

# ---------------------------------------------------------------- text vectors


class TfidfModel:
    """Stemmed, sublinear TF-IDF over a fixed vocabulary, L2-normalised rows.

    Two weightings of the same vocabulary: ``idf`` counts the documents of ``corpus`` only, and
    ``more_idf`` those of ``corpus`` and ``more`` together (the words only ``more`` has are as rare
    as a word can be in the first)."""

    def __init__(self, corpus: list[list[str]], more: list[list[str]] = ()):
        # Terms are numbered in the order the documents first use them, never in a set's order: that
        # follows Python's per-process string hashing, and the words basis (a seeded randomized SVD,
        # features.words_basis) differs with the columns' order. With set order, two runs of the same
        # O*NET fold (3,699 tasks, 4/5 of the answers known) under different PYTHONHASHSEEDs ordered
        # the first 10 of 2,163 tasks differently, scores up to 20 points apart.
        vocab: dict[str, int] = {}
        df = collections.Counter()
        for doc in corpus:
            for term in dict.fromkeys(doc):
                df[term] += 1
                if term not in vocab:
                    vocab[term] = len(vocab)
        more_df = collections.Counter(df)
        for doc in more:
            for term in dict.fromkeys(doc):
                more_df[term] += 1
                if term not in vocab:
                    vocab[term] = len(vocab)
        self.vocab = vocab
        self.idf = self._idf(df, len(corpus))
        self.more_idf = self._idf(more_df, len(corpus) + len(more)) if more else self.idf

    def _idf(self, df, n) -> np.ndarray:
        idf = np.ones(len(self.vocab), dtype=np.float32)
        for term, index in self.vocab.items():
            idf[index] = math.log((1 + max(n, 1)) / (1 + df[term])) + 1.0
        return idf

    def transform(self, docs: list[list[str]], more: bool = False) -> sp.csr_matrix:
        """The documents' rows, weighted by ``more_idf`` when ``more``, else ``idf``."""
        vocab = self.vocab
        ids = [[vocab[t] for t in doc if t in vocab] for doc in docs]
        lengths = np.fromiter(map(len, ids), dtype=np.int64, count=len(ids))
        columns = np.fromiter((i for doc in ids for i in doc), dtype=np.int32, count=int(lengths.sum()))
        rows = np.repeat(np.arange(len(docs), dtype=np.int32), lengths)
        # Duplicates are summed: each (statement, term) cell holds the term's count.
        matrix = sp.csr_matrix((np.ones(len(columns), np.float32), (rows, columns)),
                               shape=(len(docs), len(vocab)))
        matrix.sum_duplicates()
        weights = (1.0 + np.log(matrix.data.astype(np.float64))).astype(np.float32)
        matrix.data = weights * (self.more_idf if more else self.idf)[matrix.indices]
        return _l2(matrix)


def _l2(matrix, in_place: bool = False):
    """Rows scaled to unit length; a dense ``matrix`` of float32 the caller owns is scaled
    ``in_place``. (Fresh memory is slow to touch the first time: for 18,796 x 384 sentence vectors,
    squaring into a temporary the size of the matrix, as np.linalg.norm does, and dividing into a
    fresh result cost 0.1 s each of a 5.5 s re-run, where these take 0.01 s; the figures are the same.)"""
    if sp.issparse(matrix):
        norms = np.sqrt(np.asarray(matrix.multiply(matrix).sum(axis=1)).ravel())
        norms[norms == 0] = 1.0
        return sp.csr_matrix(sp.diags(1.0 / norms).dot(matrix), dtype=np.float32)
    norms = _row_norms(matrix)[:, None]
    norms[norms == 0] = 1.0
    if in_place and matrix.dtype == np.float32:
        matrix /= norms
        return matrix
    return (matrix / norms).astype(np.float32, copy=False)


def _row_norms(matrix: np.ndarray, rows: int = 2048) -> np.ndarray:
    """np.linalg.norm(matrix, axis=1), bit for bit for a C-contiguous float matrix (every caller's),
    squaring a block of rows at a time into one buffer."""
    squares = np.empty((min(rows, len(matrix)), matrix.shape[1]), matrix.dtype)
    sums = np.empty(len(matrix), matrix.dtype)
    for start in range(0, len(matrix), rows):
        block = matrix[start : start + rows]
        np.multiply(block, block, out=squares[: len(block)])
        np.add.reduce(squares[: len(block)], axis=1, out=sums[start : start + len(block)])
    return np.sqrt(sums)


def text_key(text: str) -> str:
    return hashlib.sha1(text.encode("utf-8")).hexdigest()


class EmbeddingCache:
    """Sentence vectors by text hash, kept in the database's ``embeddings`` table."""

    def __init__(self, db=None, readonly: bool = False):
        self.db = db
        self.readonly = readonly  # evaluation reads the cache but never writes the user's database
        self.memory: dict[tuple[str, str], np.ndarray] = {}

    def get_many(self, model: str, keys: list[str]) -> dict[str, np.ndarray]:
        found = {}
        missing = []
        for key in keys:
            vector = self.memory.get((model, key))
            if vector is None:
                missing.append(key)
            else:
                found[key] = vector
        if self.db is not None and missing and self.db["embeddings"].exists():
            hashes, blobs = [], []
            for start in range(0, len(missing), 500):
                part = missing[start : start + 500]
                marks = ",".join("?" * len(part))
                for text_hash, blob in self.db.execute(
                    f"select text_hash, vector from embeddings where model = ? and text_hash in ({marks})",
                    [model, *part],
                ).fetchall():
                    hashes.append(text_hash)
                    blobs.append(blob)
            if blobs and len(set(map(len, blobs))) == 1:
                # Decoded in one go: vector by vector, this was a fifth of a cached re-run.
                rows = np.frombuffer(b"".join(blobs), dtype=np.float16).reshape(len(blobs), -1).astype(np.float32)
            else:
                rows = [np.frombuffer(blob, dtype=np.float16).astype(np.float32) for blob in blobs]
            for text_hash, vector in zip(hashes, rows):
                found[text_hash] = vector
                self.memory[(model, text_hash)] = vector
        return found

    def put_many(self, model: str, items: dict[str, np.ndarray]) -> None:
        for key, vector in items.items():
            self.memory[(model, key)] = vector
        if self.db is not None and items and not self.readonly:
            with write_transaction(self.db):
                self.db.conn.executemany(
                    "insert or replace into embeddings (model, text_hash, vector) values (?, ?, ?)",
                    [(model, k, v.astype(np.float16).tobytes()) for k, v in items.items()],
                )


class _LazyEncoder:
    """The sentence encoder, loaded only when a text is missing from the cache: a re-run
    whose statements are all cached never pays for loading the model (seconds)."""

    def __init__(self, name: str, dim: int):
        self.name, self.dim = name, dim

    def encode(self, texts, **kwargs):

        self.loaded = True
        return embeddings.load_encoder().encode(texts, **kwargs)

    def release(self):
        """Free the model once every text is embedded: scoring needs the memory, not the model."""
        if getattr(self, "loaded", False):

            embeddings.unload_encoder()
            self.loaded = False


def lazy_encoder():
    """An encoder for :func:`embed` that loads the model on first use; None when it is not installed."""

    return _LazyEncoder(embeddings.MODEL_NAME, embeddings.Encoder.dim) if embeddings.available() else None


def embed(texts: list[str], encoder, cache: EmbeddingCache | None, progress=None) -> np.ndarray:
    """Unit vectors for texts, computing only those not in the cache."""
    cache = cache or EmbeddingCache()
    keys = [text_key(t) for t in texts]
    found = cache.get_many(encoder.name, list(dict.fromkeys(keys)))
    todo = list(dict.fromkeys(k for k in keys if k not in found))
    if todo:
        by_key = {k: t for k, t in zip(keys, texts)}
        vectors = encoder.encode([by_key[k] for k in todo], progress=progress)
        # As the cache keeps them (float16), so that a first run ranks as every re-run will: with
        # the model's float32 vectors, a re-run of O*NET tasks -> DWAs rewrote 647 of its 187,900
        # suggestions (a last digit, a tie's order).
        vectors = np.asarray(vectors, np.float32).astype(np.float16).astype(np.float32)
        fresh = {k: v for k, v in zip(todo, vectors)}
        cache.put_many(encoder.name, fresh)
        found.update(fresh)
    if not keys:
        return np.zeros((0, encoder.dim), np.float32)
    # Each distinct text once (a task list repeats its duty areas thousands of times), then spread.
    row_of = {k: i for i, k in enumerate(dict.fromkeys(keys))}
    distinct = _l2(np.vstack([found[k] for k in row_of]).astype(np.float32, copy=False), in_place=True)
    return distinct[[row_of[k] for k in keys]] if len(row_of) < len(keys) else distinct


class _Vectors:
    """TF-IDF and (optional) embedding vectors of sources, targets and decided statements."""

    def __init__(self, sources, targets, accepted_texts, encoder, cache, settings, accepted_contexts=(),
                 accepted_grades=()):
        source_terms = [textmod.terms(s.text) for s in sources]
        target_terms = [textmod.terms(t.text) for t in targets]
        known_terms = [textmod.terms(t) for t in accepted_texts]
        # The words of the statements being matched and of the standards are weighed on those
        # alone, so that a ranking the decisions do not change is the cold one; the decided
        # statements' words on all three. (With the decided statements counted in every weight, a
        # committee of 3 whose decisions the check set aside still moved one O*NET task of 400
        # out of its right DWAs, seed 3: hit@5 0.578 -> 0.575 at every N.)
        model = TfidfModel(source_terms + target_terms, more=known_terms)
        self.s_tfidf = model.transform(source_terms)
        self.t_tfidf = model.transform(target_terms)
        self.k_tfidf = model.transform(known_terms, more=True)
        has_context = settings.context_weight > 0 and any(t.context for t in targets)
        if has_context:
            context = model.transform([textmod.terms(t.context) for t in targets])
            self.t_tfidf = _l2(self.t_tfidf + settings.context_weight * context)
        self.groups = _groups(targets)
        self.s_grades = _grade_array([s.grades for s in sources])
        self.t_grades = _grade_array([t.grades for t in targets])
        grades = list(accepted_grades) + [None] * (len(accepted_texts) - len(accepted_grades))
        self.k_grades = _grade_array(grades, always=self.s_grades is not None)
        self.s_emb = self.t_emb = self.k_emb = None
        if encoder is not None:
            texts = [textmod.strip_boilerplate(d.text) for d in list(sources) + list(targets)]
            texts += [textmod.strip_boilerplate(t) for t in accepted_texts]
            vectors = embed(texts, encoder, cache)
            self.s_emb = vectors[: len(sources)]
            self.t_emb = vectors[len(sources) : len(sources) + len(targets)]
            self.k_emb = vectors[len(sources) + len(targets) :]
            if has_context:
                c_emb = embed([t.context or t.text for t in targets], encoder, cache)
                self.t_emb = _l2(self.t_emb + settings.context_weight * c_emb)
            if settings.source_context_weight and any(s.context for s in sources):
                # A task's duty area or occupation says what a short statement is about; decided
                # statements get the same treatment so that they stay comparable with the sources.
                contexts = [s.context for s in sources] + [
                    accepted_contexts[i] if i < len(accepted_contexts) else "" for i in range(len(accepted_texts))]
                with_context = [i for i, c in enumerate(contexts) if c]
                c_emb = embed([contexts[i] for i in with_context], encoder, cache)
                c_emb *= np.float32(settings.source_context_weight)
                # (In place where it can be: these are 18,796 x 384 floats for a full task list.)
                mixed = np.vstack([self.s_emb, self.k_emb]) if len(self.k_emb) else self.s_emb
                if len(with_context) == len(contexts):
                    mixed += c_emb
                else:
                    mixed[with_context] += c_emb
                mixed = _l2(mixed, in_place=True)
                self.s_emb, self.k_emb = mixed[: len(sources)], mixed[len(sources) :]


def _grade_array(grades: list, always: bool = False) -> np.ndarray | None:
    """Each statement's (lowest, highest) grade, NaN where it has none; None when none has
    grades (unless ``always``)."""
    if not always and not any(grades):
        return None
    return np.array([g if g else (np.nan, np.nan) for g in grades], dtype=np.float32).reshape(-1, 2)
