"""Values written into spreadsheets: text that a spreadsheet would run as a formula stays text.

One guard for every file crosswalk writes for a spreadsheet: the review workbook,
the report (xlsx and CSV) and the CSV export.

Example::

    from crosswalk.cells import neutralise, write_cell
    neutralise('=HYPERLINK("http://evil")')   # "'=HYPERLINK(\"http://evil\")"
    write_cell(sheet.cell(row=2, column=1), "=1+1")  # stored as the text =1+1
"""

from __future__ import annotations

from .text import visible

# What a spreadsheet may read as the start of a formula or a command: = + - @ (formulas),
# tab and carriage return (which some programs strip before reading a formula), and |
# (a DDE command in older Excel).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "|")


def is_formula_like(value) -> bool:
    """True for text a spreadsheet could run as a formula."""
    return isinstance(value, str) and value.startswith(FORMULA_STARTS)


def neutralise(value):
    """For CSV: formula-like text made inert with a leading apostrophe; anything else as it is. Text
    whose apostrophes already stand before a formula start gets one more, so that :func:`restored`
    gives it back as it was (a rationale "'+/- 0.005' is what the task measures" lost its apostrophe
    on a round trip).

    Example::

        neutralise("=1+1")  # "'=1+1"
    """
    return "'" + value if _guarded(value) else value


def _guarded(value) -> bool:
    """Text that :func:`neutralise` guards: a formula start, after any apostrophes."""
    return isinstance(value, str) and is_formula_like(value.lstrip("'"))


def restored(value):
    """The text a CSV cell held before :func:`neutralise`: its guard's apostrophe taken off, where one
    stands before a formula start (for crosswalk's own CSV read back, as import-decisions reads an
    export: a rationale "- measures angles" came back as "'- measures angles", a code "=T8" as "'=T8").

    Example::

        restored("'=1+1")  # "=1+1"
    """
    return value[1:] if isinstance(value, str) and value.startswith("'") and _guarded(value[1:]) else value


# What one cell of a workbook holds (Excel's limit; openpyxl cuts longer text without a word).
CELL_LIMIT = 32_767


def fit_cell(text: str, more: str = "") -> str:
    """Text a workbook cell holds whole: longer, it is cut and says so (``more``: where the rest is)."""
    if len(text) <= CELL_LIMIT:
        return text
    note = f"… (cut: {len(text) - CELL_LIMIT + 200:,} more characters{'; ' + more if more else ''})"
    return text[: CELL_LIMIT - 200] + note


def write_cell(cell, value):
    """For xlsx: put a value in an openpyxl cell; text is stored as text, never as a formula, and
    without the control characters a workbook cannot hold (a rationale typed with one); text longer
    than a cell holds is cut saying so (:func:`fit_cell`), not silently."""
    if isinstance(value, str):
        value = fit_cell(visible(value, nul=True))
    cell.value = value
    if isinstance(value, str):
        cell.data_type = "s"
        if is_formula_like(value):
            cell.quotePrefix = True
    return cell
