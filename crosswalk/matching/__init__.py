"""Suggesting alignments: a hybrid matcher that learns from decisions.

One module per job:

* ``base``: what matching works on (statements, decisions, suggestions, settings);
* ``vectors``: TF-IDF and sentence vectors, and the embedding cache in the database;
* ``features``: every signal of a (statement, standard) pair, a chunk of statements at a time;
* ``learning``: what decisions teach, checked on the committee's own held-out decisions, and
  confidence bands;
* ``ranking``: :func:`rank_candidates`, the core that ``match``, ``eval`` and the benchmarks share;
* ``evidence``: why a suggestion was made, in words a reviewer reads;
* ``database`` and ``writer``: :func:`match` reads statements and decisions from the database and
  writes the suggestions.

Example::

    from crosswalk.matching import match
    result = match(db, source="Welding tasks", target="CCSS Math", top=5)
    result.suggested
"""

from .base import DEFAULT, Candidate, Decision, Doc, Settings
from .database import (
    MatchResult,
    check_match,
    load_decisions,
    load_sources,
    load_targets,
    match,
)
from .learning import confidence_bands
from .ranking import rank_candidates
from .vectors import EmbeddingCache, embed, lazy_encoder

__all__ = [
    "DEFAULT", "Candidate", "Decision", "Doc", "EmbeddingCache", "MatchResult", "Settings", "check_match",
    "confidence_bands",
    "embed", "lazy_encoder", "load_decisions", "load_sources", "load_targets", "match",
    "rank_candidates",
]
