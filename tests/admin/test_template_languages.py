"""Languages a template offers candidates: validation, storage, duplicate, the editor state and the templates table."""

from __future__ import annotations

import pytest
from sqlmodel import Session, func, select

from interview_app import i18n
from interview_app.models import InterviewTemplate
from interview_app.services import templates
from interview_app.services.templates import LANGUAGES, TemplateError, language_label, offered_languages, save_template
from interview_app.state.admin_templates import TemplatesState
from tests.admin.test_admin_services import _draft
from tests.admin.test_admin_state_guards import people, run, state_for  # noqa: F401  (people is a fixture)
from tests.factories import make_template


def test_the_language_list_is_the_catalogues() -> None:
    assert LANGUAGES == tuple(i18n.LANGUAGE_NAMES)
    assert language_label("es") == "Español (es)" and language_label("xx") == "xx"


def test_saved_languages_start_with_the_templates_own_without_repeats(session: Session) -> None:
    t = save_template(session, _draft(language="es", languages=["de", " EN ", "de", "es"]))
    session.commit()
    session.expire_all()
    stored = session.get(InterviewTemplate, t.id)
    assert stored.languages == ["es", "de", "en"]
    assert offered_languages(stored) == ["es", "de", "en"]


def test_the_templates_own_language_is_added_first_when_not_ticked(session: Session) -> None:
    t = save_template(session, _draft(language="fr", languages=["de"]))
    assert t.languages == ["fr", "de"]
    assert save_template(session, _draft(language="en")).languages == ["en"]  # nothing ticked: only its own


@pytest.mark.parametrize("bad", ["xx", "english", "en-gb", 5, None])
def test_a_code_that_cannot_be_offered_is_refused_with_a_sentence(session: Session, bad: object) -> None:
    count = session.exec(select(func.count()).select_from(InterviewTemplate)).one()
    with pytest.raises(TemplateError) as err:
        save_template(session, _draft(languages=["de", bad]))
    [problem] = err.value.problems
    assert f"“{bad if isinstance(bad, str) else repr(bad)}” is not a language candidates can be offered" in problem
    assert "de, " not in problem.split(";")[0] and problem.endswith(".")  # names the bad code, not the good one
    session.rollback()
    assert session.exec(select(func.count()).select_from(InterviewTemplate)).one() == count


def test_a_template_language_outside_the_list_is_still_its_own(session: Session) -> None:
    """An older template in ``en-gb`` keeps saving: its own language is first, whatever its code."""
    t = save_template(session, _draft(language="en-gb", languages=["en-gb", "de"]))
    assert t.languages == ["en-gb", "de"] and offered_languages(t) == ["en-gb", "de"]


def test_offered_languages_of_rows_written_before_the_column_existed(session: Session) -> None:
    t = make_template(session, language="de")  # languages = [] (the migration's default)
    assert t.languages == [] and offered_languages(t) == ["de"]
    t.languages = ["en", "de", "en"]  # stored out of order by hand: the template's own still comes first
    assert offered_languages(t) == ["de", "en"]


def test_edit_round_trip_and_duplicate_keep_the_languages(session: Session) -> None:
    t = save_template(session, _draft(language="es", languages=["en"]))
    session.commit()
    draft = templates.draft_from_template(t)
    assert draft.languages == ["es", "en"]
    draft.languages.append("de")
    save_template(session, draft, t.id)
    session.commit()
    session.expire_all()
    assert session.get(InterviewTemplate, t.id).languages == ["es", "en", "de"]
    copy = templates.duplicate_template(session, t.id)
    session.commit()
    assert copy.languages == ["es", "en", "de"] and copy.language == "es"


# --- the editor (a real state tree, the real guard, the real database) ---------------


def _options(state: TemplatesState) -> dict[str, tuple[bool, bool]]:
    return {o.code: (o.checked, o.fixed) for o in state.language_options}


def test_an_admin_saves_a_template_with_languages(people: dict[str, str], session: Session) -> None:  # noqa: F811
    state = state_for(TemplatesState, people["admin"])
    run(state, "new_template")
    assert _options(state)["en"] == (True, True) and all(not c for code, (c, _) in _options(state).items() if code != "en")
    run(state, "set_field", name="title", value="Soporte técnico")
    run(state, "set_question_field", index=0, name="text", value="¿Por qué este trabajo?")
    run(state, "set_field", name="language", value="es")
    run(state, "set_language_offered", code="de", checked=True)
    run(state, "set_language_offered", code="en", checked=True)
    run(state, "set_language_offered", code="es", checked=False)  # the template's own stays offered
    run(state, "set_language_offered", code="zz", checked=True)  # not a language a template may offer
    options = _options(state)
    assert options["es"] == (True, True) and options["en"] == (True, False) and options["de"] == (True, False)
    assert [o.label for o in state.language_options][:2] == ["English (en)", "Español (es)"]
    assert list(options) == list(i18n.LANGUAGE_NAMES)
    run(state, "save")
    assert state.problems == [] and state.editor_open is False

    session.expire_all()
    saved = session.exec(select(InterviewTemplate).where(InterviewTemplate.title == "Soporte técnico")).one()
    assert saved.language == "es" and saved.languages == ["es", "en", "de"]
    row = next(r for r in state.templates if r["id"] == str(saved.id))
    assert row["languages"] == "es, en, de"

    run(state, "edit", template_id=str(saved.id))
    run(state, "set_language_offered", code="en", checked=False)
    assert _options(state)["en"] == (False, False)
    run(state, "save")
    session.expire_all()
    assert session.get(InterviewTemplate, saved.id).languages == ["es", "de"]


def test_the_table_shows_each_templates_languages(people: dict[str, str], session: Session) -> None:  # noqa: F811
    plain = make_template(session, language="de")
    offered = make_template(session, language="en", languages=["en", "ar"])
    session.commit()
    state = state_for(TemplatesState, people["admin"])
    run(state, "load")
    shown = {r["id"]: r["languages"] for r in state.templates}
    assert shown[str(plain.id)] == "de" and shown[str(offered.id)] == "en, ar"


@pytest.mark.parametrize("who", ["reviewer", "none", "forged"])
def test_offering_a_language_is_refused_without_an_admin_session(who: str, people: dict[str, str]) -> None:  # noqa: F811
    state = state_for(TemplatesState, people[who])
    run(state, "set_language_offered", code="de", checked=True)
    assert state.draft.languages == []
