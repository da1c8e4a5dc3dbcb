"""Evidence in words: why a suggestion was made, as a reviewer reads it."""

from __future__ import annotations

import numpy as np
from rapidfuzz import fuzz

from .. import text as textmod
from .base import Doc


def _supporting(decisions, source: Doc, limit: int = 2) -> list[str]:
    """The codes of the statements already aligned to a target (not the source itself)."""
    codes = [d.source_code or d.source_text[:40] for d in decisions if d.source_key != source.key]
    return codes[:limit] + ([f"{len(codes) - limit} more"] if len(codes) > limit else [])


# Evidence phrases of every whole-number score, formatted once (a run writes hundreds of thousands).
_OVERLAP = [f"word overlap {v}/100" for v in range(101)]
_MEANING = [f"meaning similarity {v}/100" for v in range(101)]


def _percent(values) -> list[int]:
    """0-1 values as whole percentages 0-100, rounded as ``f"{100 * v:.0f}"`` rounds."""
    return np.clip(np.rint(100 * np.maximum(np.asarray(values, np.float64), 0)), 0, 100).astype(int).tolist()


def _shared(source_forms, target_stems) -> str:
    """The terms a source shares with a target, in the source's own words (at most eight)."""
    shared = [word for stem, word in source_forms if stem in target_stems]
    return "shared terms: " + ", ".join(shared[:8]) if shared else "no shared terms"


def _explain_many(sources, targets, rows, cols, semantic, votes, supporting, target_words=None) -> list[str]:
    """Why each (source row, target column) pair was suggested, in words a reviewer understands:
    the shared terms in the source's own words, word overlap, meaning similarity, and the
    decisions that support it. Each statement is read once, and the word-overlap scores are
    computed together (rapidfuzz ``cpdist``). ``target_words`` keeps each target's stems and
    normalised text from one chunk to the next."""
    from rapidfuzz import process

    src_forms = [list(textmod.surface_forms(s.text).items()) for s in sources]
    src_norm = [textmod.normalised(s.text) for s in sources]
    tgt_cache: dict[int, tuple[frozenset, str]] = {} if target_words is None else target_words
    for col in set(cols.tolist()):
        if col not in tgt_cache:
            text = targets[col].text
            tgt_cache[col] = (frozenset(textmod.surface_forms(text)), textmod.normalised(text))
    rows_l, cols_l = rows.tolist(), cols.tolist()
    fuzzy = process.cpdist([src_norm[r] for r in rows_l], [tgt_cache[c][1] for c in cols_l],
                           scorer=fuzz.token_set_ratio, workers=-1)
    overlap = np.clip(np.rint(fuzzy), 0, 100).astype(int).tolist()
    meaning = _percent(semantic) if semantic is not None else None
    vot = votes.tolist() if votes is not None else None
    out = []
    for j, (r, c) in enumerate(zip(rows_l, cols_l)):
        parts = [_shared(src_forms[r], tgt_cache[c][0]), _OVERLAP[overlap[j]]]
        if meaning is not None:
            parts.append(_MEANING[meaning[j]])
        if supporting:
            codes = supporting(r, c)
            if codes:
                parts.append("already aligned to it: " + ", ".join(codes))
        if vot is not None and vot[j] > 0.05:
            parts.append(f"similar statements were aligned to it ({100 * vot[j]:.0f}%)")
        out.append("; ".join(parts))
    return out
