"""CSV files a spreadsheet opens safely: every cell the grader writes, neutralised against formula injection.

A student names their own folder, and names reach grades.csv; a cell such as `=HYPERLINK(...)` or
`=1+1` is evaluated by Excel, LibreOffice and Google Sheets when the instructor opens the file.
OWASP's CSV-injection guidance (https://owasp.org/www-community/attacks/CSV_Injection): quote every
field, double the quotes inside it, and prefix with a single quote any cell that begins with `=`, `+`,
`-`, `@`, a tab, a carriage return or a line feed (and their full-width forms, read as formulas in some
locales). Numbers the grader writes itself (scores) stay numbers.
"""

import csv
import re

FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\n", "\uff1d", "\uff0b", "\uff0d", "\uff20")
NUMBER = re.compile(r"-?\d+(\.\d+)?([eE][-+]?\d+)?")


def neutralise(value):
    """The text of one CSV cell, with a leading `'` if a spreadsheet would otherwise read it as a formula."""
    text = str(value)
    if text.startswith(FORMULA_START) and not NUMBER.fullmatch(text):
        return "'" + text
    return text


def write_csv(path, header, rows):
    """Write `header` and `rows` to `path` (UTF-8, every field quoted and neutralised)."""
    with open(path, "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f, quoting=csv.QUOTE_ALL, lineterminator="\n")
        for row in [header, *rows]:
            writer.writerow([neutralise(cell) for cell in row])
