"""The candidate page's state in the candidate's language: the browser's choice, the picker, sentences made in the backend."""

from __future__ import annotations

from interview_app import i18n
from interview_app.state.candidate import CandidateState
from tests.candidate.test_candidate_state import page_state, run  # noqa: F401  (page_state is a fixture)
from tests.factories import make_interview, make_template


def test_the_picker_changes_every_sentence_and_the_consent_is_agreed_again(session, app_db, page_state, mails) -> None:  # noqa: F811
    template = make_template(session, languages=["en", "es", "ar"])
    interview, raw = make_interview(session, template=template)
    s: CandidateState = page_state(raw)
    assert s.lang == "en" and [o["code"] for o in s.language_options] == ["en", "es", "ar"]
    assert s.msg["consent.heading"] == i18n.t("en", "consent.heading")
    run(s, "set_consent_checked", True)
    run(s, "set_adjust_kind", "extra_time", True)
    run(s, "send_adjustment", {"note": "More time, please."})
    assert s.adjust_notice == i18n.t("en", "adjust.sent_proceed") and len(mails) == 1

    run(s, "set_language", "ar")
    assert s.lang == "ar" and s.text_direction == "rtl"
    assert s.msg["consent.heading"] == i18n.t("ar", "consent.heading")
    assert s.consent_text == i18n.t("ar", "consent.text") and not s.consent_checked  # agreed again, in Arabic
    assert s.adjust_notice == i18n.t("ar", "adjust.sent_proceed")  # what was said before follows the language
    run(s, "on_error", "boom")
    assert s.connection_error.startswith(i18n.t("ar", "room.error", detail=" (boom)", support=s.support_email)[:20])

    run(s, "set_language", "fr")  # not offered: nothing changes
    assert s.lang == "ar"
    session.refresh(interview)
    assert interview.language == "ar"
