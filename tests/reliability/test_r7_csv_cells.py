"""R7 — the CSV export never hands a spreadsheet a formula, whatever separator it splits on.

Candidate names, emails and references are typed by candidates or imported from other
systems. Excel and LibreOffice split a CSV line on ``,``, ``;``, tab or ``|`` depending on the
locale and the import dialog, so a name like ``Bob;=1+1;x`` is three cells there, the second a
formula. Each hostile value is exported, read back with the CSV module, then split the way each
separator would split it: no cell may start (after blanks and quotes) with a formula character.
"""

from __future__ import annotations

import csv
import io

import pytest
from sqlmodel import Session

from interview_app.services import interview_list, invitations
from interview_app.settings import load_settings
from tests.factories import make_candidate, make_template
from tests.reliability.conftest import figure

FORMULA_START = tuple("=+-@\uff1d\uff0b\uff0d\uff20")
SEPARATORS = (",", ";", "\t", "|")
HOSTILE = [
    '=HYPERLINK("http://evil")',
    "Bob;=1+1;x",
    "Ann,+cmd|' /C calc'!A0",
    "Eve\t@SUM(1)",
    "Mal|-2+3",
    'Zoe; "=1+1"',
    "Kim\n=1+1",
    "Lee;\uff1d1+1",
]


def _cells(text: str, separator: str) -> list[str]:
    """The cells a spreadsheet makes of ``text`` with ``separator`` (a line break starts a cell too)."""
    return [cell.lstrip(' "') for cell in text.replace("\r", "\n").replace("\n", separator).split(separator)]


@pytest.mark.parametrize("name", HOSTILE)
def test_no_exported_cell_starts_a_formula(session: Session, name: str) -> None:
    template = make_template(session)
    candidate = make_candidate(session, name=name)
    invitations.invite(session, load_settings({"SECRET_KEY": "k" * 40}), candidate.id, template.id, actor="r7")
    session.commit()
    exported = interview_list.export_csv(session, interview_list.ListFilters(template_id=template.id))
    [row] = [r for r in csv.DictReader(io.StringIO(exported)) if r["candidate_name"]]
    value = row["candidate_name"]
    assert value.replace("'", "").replace(" ", "") == name.replace("'", "").replace(" ", "")  # only apostrophes added
    for separator in SEPARATORS:
        formulas = [c for c in _cells(value, separator) if c.startswith(FORMULA_START)]
        assert not formulas, f"{name!r} split on {separator!r} gives formula cells {formulas}"
    figure(f"R7 CSV value {name[:20]!r}", "no formula cell on , ; tab |")
