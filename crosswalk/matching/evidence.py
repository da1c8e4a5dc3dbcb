"""Evidence in words: why a suggestion was made, as a reviewer reads it.

Every figure is on the same 0-100 scale (see the README's "Reading a suggestion"):
word overlap (the share of the shorter statement's terms that the other holds: the shared terms
counted, so that "no shared terms" always comes with 0), meaning similarity (cosine of
their sentence vectors), the overall similarity that orders the suggestions without decisions
(the two, the headings and the statements beside it), and, for what decisions teach, the
similarity of the reviewed statements named. A decision is named by its code *and* the start of its statement, so that a reviewer can
check it; a warm reason is given only when it counted in the score.
"""

from __future__ import annotations

import numpy as np

from .. import text as textmod

# Evidence phrases of every whole-number score, formatted once (a run writes hundreds of thousands).
_OVERLAP = [f"word overlap {v}/100" for v in range(101)]
_MEANING = [f"meaning similarity {v}/100" for v in range(101)]
_OVERALL = [f"overall similarity {v}/100" for v in range(101)]
_FIRST = "its best match"
_NONE_SHARED, _MISFIT = "no shared terms", "outside the statement's grade band"
# What explain() reads from the two statements alone (and from the statements beside them, not from
# any decision); it writes these first, what decisions say after.
_FROM_STATEMENTS = ("shared terms: ", _NONE_SHARED, "word overlap ", "meaning similarity ", _MISFIT,
                    "overall similarity ", _FIRST)


def from_statements(evidence: str | None) -> str | None:
    """A suggestion's evidence without what the committee's decisions say: the shared terms, word
    overlap, meaning similarity and grade band, read from the two statements alone. (A published
    copy's suggestions keep only this: the decisions named may be a draft program's, or rejections.)"""
    if not evidence:
        return evidence
    kept = []
    for part in evidence.split("; "):
        if not part.startswith(_FROM_STATEMENTS):
            break
        kept.append(part)
    return "; ".join(kept)


def _percent(values) -> list[int]:
    """0-1 values as whole percentages 0-100, rounded as ``f"{100 * v:.0f}"`` rounds."""
    return np.clip(np.rint(100 * np.maximum(np.asarray(values, np.float64), 0)), 0, 100).astype(int).tolist()


def _shared(source_forms, target_stems) -> tuple[str, int]:
    """The terms a source shares with a target, in the source's own words (at most eight named), and
    the word overlap: how many of the shorter statement's terms (stems) the other holds, in percent.
    (It was rapidfuzz's token-set ratio, which scores the spelling of words that are not shared:
    "no shared terms; word overlap 35/100".)"""
    shared = [_both(word, target_stems[stem]) for stem, word in source_forms if stem in target_stems]
    if not shared:
        return _NONE_SHARED, 0
    overlap = round(100 * len(shared) / min(len(source_forms), len(target_stems)))
    return "shared terms: " + ", ".join(shared[:8]), overlap


def _both(word: str, other: str) -> str:
    """A shared term in the source's words, and in the target's where they are not one word's forms
    (the stemmer takes "experience" and "experiments" for one term: "experience ~ experiments")."""
    return word if word.startswith(other[:-1] or other) or other.startswith(word[:-1] or word) else f"{word} ~ {other}"


def quote(code: str, text: str, width: int = 60) -> str:
    """A decided statement as evidence names it: its code and the start of its text."""
    short = text if len(text) <= width else text[: width - 1].rsplit(" ", 1)[0].rstrip(",;:") + "…"
    return f"{code} “{short}”" if code else f"“{short}”"


def _decided(d, similarity: int | None = None) -> str:
    """A decided statement named as evidence, saying where it belongs to another framework than the
    one being matched (another program's tasks), so that a reviewer does not take it for this one's;
    with its similarity to this statement, in the same parentheses."""
    notes = (["another framework"] if d.other_framework else []) + (
        [f"similarity {similarity}/100"] if similarity is not None else [])
    return quote(d.source_code, d.source_text) + (f" ({'; '.join(notes)})" if notes else "")


def _plural(n: int, one: str, many: str) -> str:
    return f"{n} {one if n == 1 else many}"


def explain(sources, targets, rows, cols, feats, weights, index, known, target_words=None, *, overall=None,
            first=None) -> list[str]:
    """Why each (source row, target column) pair was suggested, in words a reviewer understands:
    the shared terms in the source's own words, word overlap, meaning similarity, the overall
    similarity that orders the suggestions without decisions (``overall``: words, meaning, the
    headings, the statements beside it; 1.0 for identical statements) and whether the standard is
    the statement's one best match by it (``first``: a first place scores far above the rest), and
    what the decisions that counted say. Each statement is read once: ``target_words`` keeps each
    target's stems from one chunk to the next; ``known`` are the decided statements (rows of
    ``index``), ``weights`` the warm features that count."""
    src_forms = [list(textmod.surface_forms(s.text).items()) for s in sources]
    tgt_cache: dict[int, dict] = {} if target_words is None else target_words  # stem -> the target's word
    for col in set(cols.tolist()):
        if col not in tgt_cache:
            tgt_cache[col] = textmod.surface_forms(targets[col].text)
    rows_l, cols_l = rows.tolist(), cols.tolist()
    semantic = _at(feats, "semantic", rows, cols)
    meaning = _percent(semantic) if semantic is not None else None
    misfit = _at(feats, "grade_misfit", rows, cols)
    misfit = misfit.tolist() if misfit is not None else None
    warm = _WarmReasons(feats, weights, index, known, rows, cols, sources) if weights else None
    overall = _percent(overall) if overall is not None else None
    first = first.tolist() if first is not None else None
    out = []
    for j, (r, c) in enumerate(zip(rows_l, cols_l)):
        shared, overlap = _shared(src_forms[r], tgt_cache[c])
        parts = [shared, _OVERLAP[overlap]]
        if meaning is not None:
            parts.append(_MEANING[meaning[j]])
        if misfit is not None and misfit[j] >= 0.999:
            parts.append(_MISFIT)
        if overall is not None:
            parts.append(_OVERALL[overall[j]])
        if first is not None and first[j]:
            parts.append(_FIRST)
        if warm is not None:
            parts += warm.reasons(j, r, c)
        out.append("; ".join(parts))
    return out


def _at(feats, name, rows, cols):
    if callable(feats):
        return feats(name, rows, cols)
    return feats[name][rows, cols] if name in feats else None


class _WarmReasons:
    """What the decisions that counted say about a pair, in words."""

    def __init__(self, feats, weights, index, known, rows, cols, sources):
        self.feats, self.weights, self.index, self.known, self.sources = feats, weights, index, known, sources
        # Only the signals computed for this chunk (a weight can name one no statement here has: the
        # heading, where no statement has a heading).
        self.values = {name: v for name in weights if (v := _at(feats, name, rows, cols)) is not None}
        self.accepted_T = index.accepted.T.tocsr()
        self.rejected_T = index.rejected.T.tocsr() if index.rejected is not None else None
        # The learned standards speak for a pair where they give it more than its own wording does.
        self.learned_points = _at(feats, "learned_points", rows, cols) if "learned" in self.values else None

    def _learned_points(self, j) -> bool:
        return self.learned_points is not None and bool(self.learned_points[j])

    def _alike(self, matrix_T, r, c):
        """The decided statements like source ``r`` that were decided so for target ``c``, closest first
        (of two as close, the framework's own first: a task two programs share is decided in each, and
        the one named is this program's)."""
        rows = matrix_T.indices[matrix_T.indptr[c]:matrix_T.indptr[c + 1]]
        similarity = self.feats["known_similarity"][r, rows]
        order = np.lexsort(([self.known[int(row)].other_framework for row in rows], -similarity))
        return [(int(rows[i]), self.index.similarity_of(similarity[i])) for i in order if similarity[i] > 0]

    def _statements(self, alike) -> tuple[int, str, str]:
        """How many decided statements ``alike`` holds, counted by their words (a task two programs
        share, decided in each, is one statement); a note of how many only another framework decided;
        and the closest, named."""
        frameworks: dict[str, list] = {}
        for row, _ in alike:
            frameworks.setdefault(self.known[row].source_text, []).append(self.known[row].other_framework)
        n = len(frameworks)
        elsewhere = sum(all(others) for others in frameworks.values())
        first, similarity = alike[0]
        note = f" ({elsewhere} of another framework)" if elsewhere and n > 1 else ""
        return n, note, _decided(self.known[first], _percent([similarity])[0])

    def _heading(self, r, c) -> str:
        """How many reviewed statements under source ``r``'s heading were aligned to target ``c``, of
        how many there, with the first of them named."""
        heading = self.sources[r].context
        under = self.index.heading_rows.get(heading, frozenset())
        aligned = [int(row) for row in self.accepted_T.indices[self.accepted_T.indptr[c]:self.accepted_T.indptr[c + 1]]
                   if row in under]
        d = self.known[min(aligned)]
        # Counted among the statements with an accepted alignment (a statement only rejected is not one).
        share = ("the one statement aligned so far" if len(under) == 1
                 else f"{len(aligned)} of the {len(under)} statements aligned so far")
        return (f"aligned for {share} under the same heading ({quote('', heading, 40)}), "
                f"e.g. {quote(d.source_code, d.source_text)}")

    def reasons(self, j, r, c) -> list[str]:
        parts = []
        value = self.values
        named = None  # the decided statement named as like this one
        if "neighbours" in value and value["neighbours"][j] > 0:
            alike = self._alike(self.accepted_T, r, c)
            if alike:
                named = alike[0][0]
                n, note, example = self._statements(alike)
                parts.append(f"{_plural(n, 'reviewed statement like this one', 'reviewed statements like this one')}"
                             f"{note} {'was' if n == 1 else 'were'} aligned to it, e.g. {example}")
        if "popularity" in value and value["popularity"][j] > 0:
            parts.append(f"accepted for {int(self.index.popular_counts[c])} of the {self.index.popular_statements} "
                         "statements aligned so far")
        aligned = (self.accepted_T.indices[self.accepted_T.indptr[c]:self.accepted_T.indptr[c + 1]]
                   if ("profile" in value and value["profile"][j] > 0) or self._learned_points(j)
                   else None)
        # (One statement "taken together" is the one already named, on another measure: said once.)
        if "profile" in value and value["profile"][j] > 0 and not (len(aligned) == 1 and aligned[0] == named):
            similarity = _percent([self.index.similarity_of(value["profile"][j])])[0]
            statements = _plural(int(self.index.counts[c]), "reviewed statement", "reviewed statements")
            elsewhere = sum(self.known[int(row)].other_framework for row in aligned)
            note = f"{elsewhere} of another framework; " if elsewhere else ""
            parts.append(f"like the {statements} aligned to it taken together ({note}similarity {similarity}/100)")
        if self._learned_points(j):
            if len(aligned):
                # The reviewed statement aligned to it that is most like this one.
                d = self.known[int(aligned[np.argmax(self.feats["known_similarity"][r, aligned])])]
                parts.append(f"what the reviewed statements were aligned to, learned together, points to it "
                             f"({_plural(len(aligned), 'statement', 'statements')} aligned to it, e.g. "
                             f"{_decided(d)})")
            else:
                parts.append("what the reviewed statements were aligned to, learned together, points to it")
        if "heading" in value and value["heading"][j] > 0:
            parts.append(self._heading(r, c))
        if "rejections" in value and value["rejections"][j] > 0 and self.rejected_T is not None:
            alike = self._alike(self.rejected_T, r, c)
            if alike:
                n, note, example = self._statements(alike)
                parts.append(f"rejected for {_plural(n, 'similar reviewed statement', 'similar reviewed statements')}"
                             f"{note}, e.g. {example}")
        return parts
