"""Text normalisation for the language of standards.

Standards and task lists wrap their content in boilerplate ("Students will be
able to demonstrate...", "1.2.a") that says nothing about the content. These
helpers strip it, split words, drop stop words and stem, keeping a map from
each stem back to the words the user actually wrote so that evidence can be
shown in those words. :func:`parse_grades` reads a grade cell ("9-12", "K,01",
"HS") as the lowest and highest grade it names.

Example::

    >>> terms("Students will measure angles using a protractor.")
    ['measur', 'angl', 'protractor']
"""

from __future__ import annotations

import functools
import re
import unicodedata

import snowballstemmer

STOP_WORDS = frozenset(
    """
    a about above across after again against all also am an and any are as at be been before being
    below between both but by can could did do does doing down during each either etc few for from
    further had has have having he her here hers him his how i if in into is it its itself just
    many may me might more most much must my no nor not now of off on once only or other our out over
    own per same shall she should so some such than that the their them then there these they this
    those through thus to too under until up upon us very via was we were what when where whether
    which while who whom why will with within without would you your e g eg ie i.e e.g
    student students learner learners able ability demonstrate demonstrates demonstrating
    understand understanding understands knowledge skill skills appropriate appropriately
    including include includes included using use uses used given e.g. example examples etc.
    grade level levels topic topics text texts
    """.split()
)

# Boilerplate at the start of a statement, removed before anything else.
LEAD_PATTERNS = [
    re.compile(p, re.IGNORECASE)
    for p in (
        r"^\s*(?:\(?[0-9]+(?:\.[0-9a-z]+)+[.)]?|\(?[0-9]+[.)]|\(?[a-z][.)]|[ivx]+[.)]|[-•*·])\s+",  # 1.2  3.  a)  (a)  iv.  •
        r"^\s*(?:the\s+)?(?:students?|learners?|participants?|candidates?)\s+(?:will|shall|should|can|must)\s+(?:be\s+able\s+to\s+)?",
        r"^\s*(?:be\s+able\s+to|able\s+to)\s+",
    )
]

WORD = re.compile(r"[A-Za-z][A-Za-z'’]*[A-Za-z]|[A-Za-z]|[0-9]+(?:\.[0-9]+)?")

_stemmer = snowballstemmer.stemmer("english")


@functools.lru_cache(maxsize=200_000)
def stem(word: str) -> str:
    return _stemmer.stemWord(word)


def strip_boilerplate(text: str) -> str:
    """Remove list numbering and "students will be able to" from the start."""
    previous = None
    while previous != text:
        previous = text
        for pattern in LEAD_PATTERNS:
            text = pattern.sub("", text)
    return text


def words(text: str) -> list[str]:
    """The content words of a statement, as written (lower-cased)."""
    return list(_words(text or ""))


@functools.lru_cache(maxsize=100_000)
def _words(text: str) -> tuple[str, ...]:
    # Cached: explaining suggestions asks for the same statements again and again.
    out = []
    for word in WORD.findall(strip_boilerplate(text or "")):
        word = word.lower()
        if "’" in word:
            word = word.replace("’", "'")
        if word.endswith("'s"):
            word = word[:-2]
        if word not in STOP_WORDS and (len(word) > 1 or word.isdigit()):
            out.append(word)
    return tuple(out)


def terms(text: str) -> list[str]:
    """Stemmed content words."""
    return [stem(w) for w in words(text)]


@functools.lru_cache(maxsize=100_000)
def surface_forms(text: str) -> dict[str, str]:
    """Map each stem in a statement to the first word that produced it (do not modify the result)."""
    forms: dict[str, str] = {}
    for word in words(text):
        forms.setdefault(stem(word), word)
    return forms


# --- grades ---------------------------------------------------------------------------------

GRADE_WORDS = {
    "k": 0, "kindergarten": 0, "pk": -1, "prek": -1, "pre k": -1,
    "hs": 9, "high school": 9, "ms": 6, "middle school": 6, "es": 0, "elementary": 0,
}
BANDS = {"hs": (9, 12), "high school": (9, 12), "ms": (6, 8), "middle school": (6, 8),
         "es": (0, 5), "elementary": (0, 5), "postsecondary": (13, 16), "adult": (13, 16)}
# Grades written in words, as some states' documents write them.
NUMBER_WORDS = {word: number for number, words in enumerate((
    (), ("one", "first"), ("two", "second"), ("three", "third"), ("four", "fourth"), ("five", "fifth"),
    ("six", "sixth"), ("seven", "seventh"), ("eight", "eighth"), ("nine", "ninth"), ("ten", "tenth"),
    ("eleven", "eleventh"), ("twelve", "twelfth"))) for word in words}
LAST_GRADE = 16  # a larger number in a grade cell is not a grade (a year, a code): the range stays unknown


# What a standard without a subject, or without a domain, is listed under (the sites' pages and
# links, the report).
NO_SUBJECT = "(no subject)"
NO_DOMAIN = "(no domain)"


# What a word processor's autocorrect writes for the typed characters: curly quotes, dashes.
TYPOGRAPHY = str.maketrans({"\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"', "\u2013": "-",
                            "\u2014": "-"})


def same_words(text: str) -> str:
    """A statement's words as crosswalk compares them: case, spacing, Unicode's two ways of writing
    an accented letter (NFC, NFD: a Mac's copy and paste), curly or straight quotes and dashes
    (autocorrect's), and a full stop at the end make no difference. A re-import that changes only
    these updates the text without asking for re-review, and a review workbook exported before it is
    still the statement its reviewer read."""
    words = re.sub(r"\s+", " ", unicodedata.normalize("NFC", text).translate(TYPOGRAPHY)).strip().lower()
    return words[:-1].rstrip() if words.endswith(".") else words


def parse_grades(text: str | None) -> tuple[int | None, int | None]:
    """The lowest and highest grade a grade cell names (K = 0).

    >>> parse_grades("9-12"), parse_grades("K,01,02"), parse_grades("HS"), parse_grades("MS")
    ((9, 12), (0, 2), (9, 12), (6, 8))
    >>> parse_grades("2020")  # not a grade: unknown
    (None, None)
    """
    if not text:
        return None, None
    value = str(text).strip().lower()
    if value in BANDS:
        return BANDS[value]
    numbers = []
    for part in re.split(r"[,;/\s]+|(?<=\w)-(?=\w)|–|\bto\b", value):
        if part.strip() in NUMBER_WORDS:  # "Grades Nine through Twelve", "ninth"
            numbers.append(NUMBER_WORDS[part.strip()])
            continue
        part = part.strip().replace("grade", "").replace("th", "").strip()
        if not part:
            continue
        if part in GRADE_WORDS:
            if part in BANDS:
                numbers.extend(BANDS[part])
            else:
                numbers.append(GRADE_WORDS[part])
        elif part.isdigit() and int(part) <= LAST_GRADE:
            numbers.append(int(part))
    if not numbers:
        return None, None
    return min(numbers), max(numbers)


def grade_label(low, high, raw=None) -> str:
    """How a grade range reads, one format everywhere: 'Grade 3', 'Grades 9–12', 'K', 'Grades K–2'.

    The published text (``raw``) when no range is known. Standard library only:
    ``crosswalk publish`` copies this function into the public site's plugin.

    Example::

        >>> grade_label(9, 12)
        'Grades 9–12'
    """
    def one(n):
        return "K" if n == 0 else str(n)

    if low is None or high is None:
        return f"Grade {raw}" if raw else "Grade not given"
    if low == high:
        return "K" if low == 0 else f"Grade {low}"
    return f"Grades {one(low)}–{one(high)}"


# A draft's or a crosswalk in review's accepted standards are its committee's work so far: they
# certify once it is approved (program list, the report; the sites' program and home pages, told by
# signed_off, say it in their templates).
NOT_YET_CERTIFIED = "accepted so far, certified once the crosswalk is approved"


def signed_off(status) -> bool:
    """Whether a program's accepted standards certify: its crosswalk approved (or no status kept,
    as in a public copy without it)."""
    return not status or status == "approved"


def coverage_titles(signed: bool) -> tuple[str, str, str, str]:
    """What a coverage table's figures are called (the program and gaps pages, the report): the
    standards with a full alignment, with only partial ones, with either, and with none. An approved
    crosswalk's certify; a draft's or one in review's are accepted so far (:func:`signed_off`)."""
    if signed:
        return ("Fully certified", "Partly certified", "Certified", "not certified")
    return ("Accepted in full", "Accepted in part", "Accepted so far", "not accepted")


def program_status_text(status, by=None, at=None, changes=0, flagged=0) -> str:
    """How a program's sign-off reads, one wording everywhere (the command line, the report, the
    sites): 'approved by M. Levesque on 2026-11-28', 'in review (set by J. Chen on 2026-11-28)',
    'draft'; ``changes``: changes made to its decisions since, ``flagged``: its decisions a re-import
    flagged for re-review since, still waiting (``program_progress``), which an approval did not see.
    Standard library only: ``crosswalk publish`` copies this function into the public site's plugin.

    Example::

        >>> program_status_text("approved", "M. Levesque", "2026-11-28T14:02:11+00:00")
        'approved by M. Levesque on 2026-11-28'
        >>> program_status_text("approved", "M. Levesque", "2026-11-28T14:02:11+00:00", changes=3)
        'approved by M. Levesque on 2026-11-28; 3 changes to its decisions since'
        >>> program_status_text("approved", "M. Levesque", "2026-11-28T14:02:11+00:00", changes=1, flagged=2)
        'approved by M. Levesque on 2026-11-28; 1 change to its decisions and 2 of its decisions flagged for re-review since'
    """
    if not status:
        return ""
    if not by:
        return status
    on = f" on {at[:10]}" if at else ""
    text = f"{status} by {by}{on}" if status == "approved" else f"{status} (set by {by}{on})"
    since = since_sign_off_text(changes, flagged)
    return f"{text}; {since} since" if since else text


def since_sign_off_text(changes=0, flagged=0) -> str:
    """What happened to a program's decisions since its sign-off, in words: '1 change to its
    decisions', '2 of its decisions flagged for re-review' (and waiting for it), both joined by 'and';
    '' for nothing. Standard library only (copied into the public site's plugin with program_status_text).

    Example::

        >>> since_sign_off_text(2, 1)
        '2 changes to its decisions and 1 of its decisions flagged for re-review'
    """
    parts = []
    if changes:
        parts.append(f"{changes} change{'' if changes == 1 else 's'} to its decisions")
    if flagged:
        parts.append(f"{flagged} of its decisions flagged for re-review")
    return " and ".join(parts)


# --- counts ---------------------------------------------------------------------------------

# What a suggestion's score is called wherever a person reads it: the sites' pages (their templates
# write the same words; tests/test_review_site.py holds them to this), the review workbook's column
# and the CLI's --min-chance.
CHANCE = "Chance it is right"


def score_text(score) -> str:
    """How a score (0-100) reads, one way everywhere (the review site, the working and public sites,
    the review workbook): to one decimal, rounded down, so that a figure never stands on the other
    side of its confidence band's edge (high from 60, medium from 25: a 24.96 that is 'low' reads
    24.9, never 25 or 25.0). The matcher stores its scores to 0.1 and bands them as stored, so these
    read as stored. '' for no score. Standard library only: ``crosswalk publish`` copies this function
    into the public site's plugin.

    Example::

        >>> score_text(24.6), score_text(25), score_text(24.96), score_text(None)
        ('24.6', '25.0', '24.9', '')
    """
    if score is None:
        return ""
    import decimal  # (here, not at the top: publish copies the function alone)

    # The float's shortest decimal (24.6, not 24.5999...) is on the same side of every edge as the
    # float, and rounding it down to 0.1 keeps it there; + 0.0 reads -0.0 as 0.0.
    tenths = decimal.Decimal(repr(float(score) + 0.0)).quantize(decimal.Decimal("0.1"), rounding=decimal.ROUND_FLOOR)
    return f"{tenths:.1f}"


def shown_score(score) -> float | None:
    """The figure :func:`score_text` shows, as a number (the review workbook's Score cells, which a
    spreadsheet sorts and filters as numbers); None for no score."""
    text = score_text(score)
    return float(text) if text else None


def short_list(items, limit: int = 10) -> str:
    """The first ``limit`` items, then how many more: '2, 5, 9 and 3 more'.

    Example::

        >>> short_list(["2", "5", "9", "11"], limit=3)
        '2, 5, 9 and 1 more'
    """
    items = list(items)
    return ", ".join(items[:limit]) + (f" and {len(items) - limit} more" if len(items) > limit else "")


def plural(n: int, noun: str, plural_form: str | None = None) -> str:
    """A count with its noun, singular for 1: '1 program', '2 programs', '0 entries'.

    The last word of ``noun`` takes the plural ('1 reviewed alignment', '3 reviewed
    alignments'); ``plural_form`` gives an irregular one.

    Example::

        >>> plural(1, "program"), plural(2, "entry"), plural(0, "reviewed alignment")
        ('1 program', '2 entries', '0 reviewed alignments')
    """
    if n == 1:
        return f"{n} {noun}"
    if plural_form is None:
        head, _, last = noun.rpartition(" ")
        if len(last) > 1 and last.endswith("y") and last[-2] not in "aeiou":
            last = last[:-1] + "ies"
        elif last.endswith(("s", "x", "z", "ch", "sh")):
            last += "es"
        else:
            last += "s"
        plural_form = f"{head} {last}" if head else last
    return f"{n} {plural_form}"


def local_path(value) -> str | None:
    """``value`` when it is a path of this site ("/program/3?subject=Math"), else None: where a page
    sends someone back to (after a sign-in or a decision) is never another site.

    >>> local_path("/program/3"), local_path("//evil.example/"), local_path("https://evil.example/")
    ('/program/3', None, None)
    """
    value = str(value or "")
    if not value.startswith("/") or value.startswith("//") or "\\" in value or len(value) > 500:
        return None
    return None if any(ord(ch) < 32 for ch in value) else value


# Characters a person cannot see or type in a cell: the control characters (a line break Mac Excel
# writes as a vertical tab or form feed, or a lone carriage return, becomes a line break; tab, line
# breaks and NUL, which the importer names as an error of its own, stay), and the zero-width space
# and word joiner (a code "X.3" with a zero-width space after it was another code than "X.3").
# Spreadsheet writers refuse the control characters:
# a statement holding one could not be exported to a review workbook. str.translate: 0.08 s over a
# 50 MB cell, where a regular expression's search alone took 0.29 s (2026-11-30).
# (Not the zero-width non-joiner and joiner, U+200C and U+200D: Persian, Urdu and Indic words and
# emoji sequences need them. Not the C1 controls, U+0080 to U+009F, in cells: Windows-1252 text read
# as Latin-1 upstream holds them for its letters ("welder\x92s"), and taken out, a statement imported
# before would read as changed and its reviews be flagged. A terminal runs some of them as escapes:
# they go from what is printed there.)
_INVISIBLE = {c: None for c in [*range(0x01, 0x09), *range(0x0e, 0x20), 0x7f, 0x200b, 0x2060, 0xfeff]}
_INVISIBLE.update({0x0b: "\n", 0x0c: "\n", 0x0d: "\n"})
_INVISIBLE_WITH_NUL = {**_INVISIBLE, 0x00: None}
_NOT_FOR_A_TERMINAL = {**_INVISIBLE_WITH_NUL, **{c: None for c in range(0x80, 0xa0)}}


def visible(text: str, *, nul: bool = False, terminal: bool = False) -> str:
    """``text`` without the characters no one can see or type in a cell (see above); ``nul``: NUL too;
    ``terminal``: for printing, NUL and the C1 controls too."""
    return text.translate(_NOT_FOR_A_TERMINAL if terminal else _INVISIBLE_WITH_NUL if nul else _INVISIBLE)


def empty_crosswalk_text(outside: int, grades: str) -> str:
    """What a program's crosswalk (its report, its page) says where it certifies no standard yet;
    ``outside``: its accepted decisions to standards outside its grade band (db.OUTSIDE_BAND_SQL).
    Standard library only: ``crosswalk publish`` copies this function into the public site's plugin."""
    if outside:
        return (f"No accepted alignment is to a standard of this program's grade band ({grades}): "
                f"{outside} accepted alignment{'' if outside == 1 else 's'} of its credentials "
                f"{'is' if outside == 1 else 'are'} to standards outside it, and certify nothing for it.")
    return "No alignment for this program has been reviewed and accepted yet, so it certifies no academic standard yet."
