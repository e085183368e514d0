"""Sections of the admin interview detail page: recording, transcript, evaluation, questions, latency, integrity.

The detail page (``/admin/interviews/[interview_id]``) calls ``review_sections()``; the
sections load themselves on mount (``ReviewState.load_review``) from the route's last
segment, so the page may also put ``ReviewState.load_review`` in its ``on_load``.
"""

from __future__ import annotations

from typing import Any

import reflex as rx
from reflex.event import no_args_event_spec
from reflex.vars import ObjectVar

from interview_app.services.scorecards import DECISIONS
from interview_app.services.scoring import INSUFFICIENT_EVIDENCE_LABEL
from interview_app.state.review import (
    INSUFFICIENT,
    NO_SCORE,
    ComparisonRow,
    CriterionRow,
    EvidenceRow,
    IntegrityRow,
    QuestionRow,
    ReviewState,
    ScorecardRow,
    ScoreInput,
    SegmentRow,
)

PLAYER_ID = "review-player"
_PLAYER = rx.asset("review_player.jsx", shared=True)


def _current_time(event: ObjectVar[dict[str, Any]]) -> list[rx.Var[float]]:
    return [event["target"].to(dict)["currentTime"].to(float)]


class _ReviewPlayer(rx.Component):
    """<audio>/<video> that reports its position (the native ``timeupdate`` event, ~4 Hz) and moves to
    ``seek`` (``ReviewState.player_seek``: ``at`` seconds, ``play``, and ``n``, which counts the requests)."""

    library = _PLAYER.importable_path

    src: rx.Var[str]
    controls: rx.Var[bool]
    preload: rx.Var[str]
    seek: rx.Var[Any]

    on_time_update: rx.EventHandler[_current_time]
    on_seeked: rx.EventHandler[_current_time]
    on_error: rx.EventHandler[no_args_event_spec]
    on_loaded_metadata: rx.EventHandler[no_args_event_spec]


class ReviewAudio(_ReviewPlayer):
    tag = "SeekableAudio"


class ReviewVideo(_ReviewPlayer):
    tag = "SeekableVideo"


def _section(title: str, *children: rx.Component, icon: str, **props: Any) -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.hstack(rx.icon(icon, size=18, color=rx.color("accent", 10)), rx.heading(title, size="4"), align="center", spacing="2"),
            *children,
            spacing="3",
            width="100%",
        ),
        width="100%",
        **props,
    )


def _player() -> rx.Component:
    common = {
        "id": PLAYER_ID,
        "src": ReviewState.media_url,
        "controls": True,
        "preload": "metadata",
        "on_time_update": ReviewState.track_position,
        "on_seeked": ReviewState.track_position,
        "on_error": ReviewState.recording_failed,
        "on_loaded_metadata": ReviewState.recording_ready,
        "seek": ReviewState.player_seek,
        "width": "100%",
    }
    return rx.cond(
        ReviewState.media_url != "",
        rx.vstack(
            rx.cond(ReviewState.media_is_video, ReviewVideo.create(**common, max_height="360px"), ReviewAudio.create(**common)),
            rx.hstack(
                rx.text("Playback link valid until ", ReviewState.media_expires, ". ", size="1", color_scheme="gray"),
                rx.link(
                    "Get a new link", on_click=ReviewState.refresh_recording_link, size="1", id="refresh-recording-link", cursor="pointer"
                ),
                spacing="1",
            ),
            rx.cond(ReviewState.media_message != "", rx.text(ReviewState.media_message, size="1", color_scheme="red")),
            width="100%",
            spacing="1",
        ),
        rx.callout(ReviewState.media_message, icon="info", color_scheme="gray", id="recording-unavailable", width="100%"),
    )


def _segment_line(row: SegmentRow) -> rx.Component:
    active = row.seq == ReviewState.active_seq
    return rx.hstack(
        rx.badge(row.at, variant="soft", color_scheme="gray", font_family="monospace"),
        rx.text(
            row.label,
            weight="bold",
            size="2",
            min_width="90px",
            color=rx.cond(row.speaker == "candidate", rx.color("accent", 11), rx.color("gray", 11)),
        ),
        # On a narrow column the text moves below time and speaker instead of becoming a sliver.
        rx.text(row.text, size="2", flex="1 1 240px"),
        id="segment-" + row.seq.to_string(),
        class_name=rx.cond(active, "transcript-line active", "transcript-line"),
        data_active=rx.cond(active, "true", "false"),
        on_click=ReviewState.seek_to(row.seq),
        background=rx.cond(active, rx.color("accent", 4), "transparent"),
        border_left=rx.cond(active, f"3px solid {rx.color('accent', 9)}", "3px solid transparent"),
        _hover={"background": rx.color("accent", 3)},
        padding="6px 8px",
        border_radius="6px",
        cursor="pointer",
        align="start",
        spacing="3",
        wrap="wrap",
        row_gap="2px",
        width="100%",
    )


def _transcript() -> rx.Component:
    return _section(
        "Transcript",
        rx.hstack(
            rx.input(
                rx.input.slot(rx.icon("search", size=14)),
                placeholder="Search the transcript",
                value=ReviewState.transcript_query,
                on_change=ReviewState.set_transcript_query.debounce(250),
                id="transcript-search",
                width="240px",
            ),
            rx.text(ReviewState.match_note, size="1", color_scheme="gray", id="transcript-count"),
            rx.cond(
                ReviewState.interview_language != "",
                rx.badge("Language: ", ReviewState.interview_language, variant="soft", color_scheme="gray", id="transcript-language"),
            ),
            rx.spacer(),
            rx.hstack(
                rx.button(rx.icon("download", size=14), "JSON", variant="soft", size="1", on_click=ReviewState.download_transcript_json),
                rx.button(rx.icon("download", size=14), "Text", variant="soft", size="1", on_click=ReviewState.download_transcript_text),
                spacing="2",
            ),
            width="100%",
            align="center",
            wrap="wrap",
        ),
        rx.cond(
            ReviewState.segments.length() > 0,
            rx.scroll_area(
                rx.vstack(
                    rx.foreach(ReviewState.visible_segments, _segment_line),
                    spacing="1",
                    width="100%",
                    padding_right="14px",  # keeps the text clear of the scrollbar
                    id="transcript-lines",
                ),
                type="auto",
                scrollbars="vertical",
                max_height="440px",
            ),
            rx.text("No transcript was stored for this interview.", color_scheme="gray", size="2"),
        ),
        icon="scroll-text",
    )


def _evidence(row: EvidenceRow) -> rx.Component:
    return rx.hstack(
        rx.badge(row.at, variant="outline", color_scheme="gray", font_family="monospace"),
        rx.text("“", row.quote, "”", size="2", style={"font_style": "italic"}),
        on_click=ReviewState.seek_to(row.seq),
        cursor="pointer",
        spacing="2",
        align="start",
    )


def _criterion(row: CriterionRow) -> rx.Component:
    return rx.vstack(
        rx.hstack(
            rx.text(row.criterion, weight="bold"),
            rx.cond(
                row.insufficient,  # too little speech behind it: the reason instead of a score
                rx.badge(INSUFFICIENT_EVIDENCE_LABEL, color_scheme="gray", variant="soft", size="2", class_name="insufficient-evidence"),
                rx.badge(row.score, " / ", row.scale, size="2", class_name="criterion-score"),
            ),
            rx.text("weight ", row.weight, size="1", color_scheme="gray"),
            align="center",
            spacing="3",
            wrap="wrap",
        ),
        rx.cond(
            row.insufficient,
            rx.text(row.reason, size="2", color_scheme="gray", class_name="insufficient-reason"),
            rx.text(row.rationale, size="2"),
        ),
        rx.foreach(row.evidence, _evidence),
        rx.cond(
            row.dropped > 0,
            rx.text(
                row.dropped, " quote(s) from the model did not occur in the transcript and were left out.", size="1", color_scheme="gray"
            ),
        ),
        spacing="1",
        width="100%",
        padding_y="2",
        border_bottom=f"1px solid {rx.color('gray', 4)}",
    )


def _evaluation() -> rx.Component:
    rerun = rx.cond(
        ReviewState.can_manage,
        rx.button(
            rx.icon("refresh-cw", size=14),
            "Re-run evaluation",
            variant="soft",
            size="1",
            on_click=ReviewState.rerun_evaluation,
            id="rerun-evaluation",
            disabled=ReviewState.evaluation_status == "running",
        ),
    )
    return _section(
        "Evaluation",
        rx.hstack(
            rx.badge(
                rx.match(
                    ReviewState.evaluation_status,
                    ("done", "Done"),
                    ("pending", "Queued"),
                    ("running", "Running"),
                    ("failed", "Failed"),
                    ("needs_llm", "Needs an LLM provider"),
                    (INSUFFICIENT, "Not evaluated"),
                    ("none", "Not started"),
                    ReviewState.evaluation_status,
                ),
                id="evaluation-status",
                variant="surface",
                color_scheme=rx.match(ReviewState.evaluation_status, ("done", "green"), ("failed", "red"), ("needs_llm", "amber"), "gray"),
            ),
            rx.cond(ReviewState.evaluation_model != "", rx.text("by ", ReviewState.evaluation_model, size="1", color_scheme="gray")),
            rx.spacer(),
            rerun,
            width="100%",
            align="center",
        ),
        rx.cond(
            ReviewState.evaluation_message != "",
            rx.cond(  # fixed icon names: a state-dependent one ships lucide's dynamic icon loader
                ReviewState.evaluation_status == "failed",
                rx.callout(
                    ReviewState.evaluation_message, icon="triangle-alert", color_scheme="red", id="evaluation-message", width="100%"
                ),
                rx.cond(
                    ReviewState.evaluation_status == INSUFFICIENT,
                    rx.callout(ReviewState.evaluation_message, icon="ban", color_scheme="gray", id="evaluation-message", width="100%"),
                    rx.callout(ReviewState.evaluation_message, icon="info", color_scheme="blue", id="evaluation-message", width="100%"),
                ),
            ),
        ),
        rx.cond(  # not evaluated: why, per criterion; no score, no recommendation
            (ReviewState.evaluation_status == INSUFFICIENT) & (ReviewState.criteria.length() > 0),
            rx.vstack(rx.foreach(ReviewState.criteria, _criterion), width="100%", spacing="2", id="evaluation-not-evaluated"),
        ),
        rx.cond(
            ReviewState.evaluation_status == "done",
            rx.vstack(
                rx.hstack(
                    rx.cond(ReviewState.evaluation_overall != "", rx.badge("Overall ", ReviewState.evaluation_overall, size="2")),
                    rx.cond(
                        ReviewState.evaluation_recommendation != "",
                        rx.badge("Advisory recommendation: ", ReviewState.evaluation_recommendation, color_scheme="amber", size="2"),
                    ),
                    spacing="2",
                    wrap="wrap",
                ),
                rx.text(
                    "The recommendation is advisory, produced by a language model. The hiring decision is yours.",
                    size="1",
                    color_scheme="gray",
                ),
                rx.text(ReviewState.evaluation_summary, size="2"),
                rx.foreach(ReviewState.criteria, _criterion),
                width="100%",
                spacing="2",
                id="evaluation-result",
            ),
        ),
        icon="clipboard-check",
    )


def _question(row: QuestionRow) -> rx.Component:
    return rx.vstack(
        rx.hstack(
            rx.badge(row.label, variant="soft", color_scheme="gray"),
            rx.text(row.text, size="2", flex="1 1 200px"),
            rx.cond(row.competency != "", rx.badge(row.competency, variant="outline", color_scheme="gray", size="1")),
            align="start",
            spacing="2",
            wrap="wrap",
            width="100%",
        ),
        rx.cond(
            row.strong_answer != "",
            rx.text("A strong answer covers: ", row.strong_answer, size="1", color_scheme="gray", class_name="strong-answer"),
        ),
        spacing="1",
        width="100%",
        padding_y="1",
        data_question=row.id,
        class_name="review-question",
    )


def _questions() -> rx.Component:
    """The template's questions with the author's strong-answer notes: for reviewers, never shown to candidates."""
    return rx.cond(
        ReviewState.planned_questions.length() > 0,
        _section(
            "Questions",
            rx.text(
                "What the interview planned to ask, and what the template's author says a strong answer covers.",
                size="1",
                color_scheme="gray",
            ),
            rx.text(ReviewState.template_version_label, size="1", weight="medium", id="review-template-version"),
            rx.vstack(rx.foreach(ReviewState.planned_questions, _question), spacing="2", width="100%"),
            icon="list-checks",
            id="review-questions",
        ),
    )


def _latency() -> rx.Component:
    return _section(
        "Response latency",
        rx.cond(
            ReviewState.latency.length() > 0,
            rx.vstack(
                rx.text(
                    "End of candidate speech → first interviewer audio, per turn. Median ",
                    ReviewState.latency_median,
                    ", 95th percentile ",
                    ReviewState.latency_p95,
                    ".",
                    size="2",
                ),
                rx.recharts.composed_chart(
                    rx.recharts.bar(data_key="end_of_turn_ms", name="End of turn", stack_id="parts", fill=rx.color("blue", 8)),
                    rx.recharts.bar(data_key="llm_ttft_ms", name="LLM first token", stack_id="parts", fill=rx.color("violet", 8)),
                    rx.recharts.bar(data_key="tts_ttfb_ms", name="TTS first audio", stack_id="parts", fill=rx.color("amber", 8)),
                    rx.recharts.line(data_key="total_ms", name="Total", stroke=rx.color("gray", 12), type_="monotone"),
                    rx.recharts.x_axis(data_key="turn", name="Turn"),
                    rx.recharts.y_axis(unit=" ms", width=80),
                    rx.recharts.cartesian_grid(stroke_dasharray="3 3"),
                    rx.recharts.graphing_tooltip(),
                    rx.recharts.legend(),
                    data=ReviewState.latency,
                    width="100%",
                    height=280,
                ),
                width="100%",
                id="latency-chart",
            ),
            rx.text("No latency measurements were reported for this interview (text interviews have none).", color_scheme="gray", size="2"),
        ),
        icon="timer",
    )


def _integrity_row(row: IntegrityRow) -> rx.Component:
    return rx.hstack(
        rx.icon("flag", size=14, color=rx.color("amber", 10)),
        rx.text(row.at, size="1", color_scheme="gray", font_family="monospace"),
        rx.text(row.message, size="2"),
        spacing="2",
        align="center",
    )


def _integrity() -> rx.Component:
    return _section(
        "Integrity signals",
        rx.cond(
            ReviewState.integrity.length() > 0,
            rx.vstack(rx.foreach(ReviewState.integrity, _integrity_row), spacing="1", id="integrity-events"),
            rx.text("No integrity signals were reported.", color_scheme="gray", size="2"),
        ),
        rx.text("Signals are hints for the reviewer, not findings.", size="1", color_scheme="gray"),
        icon="shield-check",
    )


def _score_input(row: ScoreInput, index: rx.Var[int]) -> rx.Component:
    return rx.vstack(
        rx.hstack(
            rx.text(row.criterion, weight="bold", size="2"),
            rx.text(row.scale, size="1", color_scheme="gray"),
            rx.spacer(),
            rx.select.root(
                rx.select.trigger(placeholder="Score", aria_label="Score for " + row.criterion, class_name="score-select"),
                rx.select.content(
                    rx.foreach(
                        row.options,
                        lambda option: rx.select.item(rx.cond(option == NO_SCORE, "Can’t judge", option), value=option),
                    )
                ),
                value=row.score,
                on_change=lambda value: ReviewState.set_score(index, value),
                size="1",
            ),
            align="center",
            width="100%",
            spacing="2",
        ),
        rx.cond(row.description != "", rx.text(row.description, size="1", color_scheme="gray")),
        rx.text_area(
            value=row.note,
            on_change=lambda value: ReviewState.set_score_note(index, value),
            placeholder="Why this score (what the candidate said)",
            aria_label="Note on " + row.criterion,
            rows="2",
            size="1",
            width="100%",
            class_name="score-note",
        ),
        spacing="1",
        width="100%",
        data_criterion=row.criterion,
        class_name="score-input",
    )


def _comparison_row(row: ComparisonRow) -> rx.Component:
    return rx.table.row(
        rx.table.row_header_cell(row.criterion),
        rx.table.cell(row.ai, class_name="ai-score"),
        rx.table.cell(row.yours, class_name="your-score"),
        rx.table.cell(
            rx.hstack(
                rx.text(row.human_mean, class_name="human-mean"),
                rx.cond(row.human_scores != "", rx.text("(", row.human_scores, ")", size="1", color_scheme="gray")),
                rx.cond(
                    row.apart, rx.badge("apart", color_scheme="amber", size="1", title="AI and human scores differ by more than one point")
                ),
                spacing="2",
                align="center",
            )
        ),
        data_criterion=row.criterion,
        class_name="comparison-row",
    )


def _scorecard_row(row: ScorecardRow) -> rx.Component:
    return rx.vstack(
        rx.hstack(
            rx.text(row.reviewer, weight="bold", size="2"),
            rx.badge(row.recommendation, variant="soft", size="1"),
            rx.text(row.submitted, size="1", color_scheme="gray"),
            spacing="2",
            align="center",
            wrap="wrap",
        ),
        rx.text(row.scores, size="1"),
        rx.cond(row.note != "", rx.text(row.note, size="1", color_scheme="gray", white_space="pre-wrap")),
        spacing="1",
        width="100%",
        class_name="scorecard",
    )


def _choices(value: rx.Var, on_change: Any, id_prefix: str, label: str) -> rx.Component:
    """Advance / Hold / Decline as radio buttons (a reviewer's recommendation, an admin's decision)."""
    return rx.radio_group.root(
        rx.hstack(*[rx.radio_group.item(text, value=key, id=f"{id_prefix}-{key}") for key, text in DECISIONS.items()], spacing="3"),
        value=value,
        on_change=on_change,
        aria_label=label,
    )


def _note_area(value: rx.Var, on_change: Any, label: str, id_: str) -> rx.Component:
    return rx.text_area(
        value=value, on_change=on_change, placeholder=f"{label} (optional)", aria_label=label, rows="2", width="100%", id=id_
    )


def _error(message: rx.Var, id_: str) -> rx.Component:
    return rx.cond(message != "", rx.callout(message, icon="triangle-alert", color_scheme="red", id=id_, width="100%", size="1"))


def _scores() -> rx.Component:
    """Human scoring beside the AI's: the viewer's form, AI and human side by side, everyone's scorecards."""
    form = rx.vstack(
        rx.foreach(ReviewState.score_inputs, _score_input),
        rx.hstack(
            rx.text("Your recommendation", size="2", weight="medium"),
            _choices(ReviewState.score_recommendation, ReviewState.set_score_recommendation, "recommend", "Your recommendation"),
            spacing="3",
            align="center",
            wrap="wrap",
        ),
        _note_area(ReviewState.score_overall_note, ReviewState.set_score_overall_note, "Overall note", "score-overall-note"),
        _error(ReviewState.score_error, "score-error"),
        rx.button(
            rx.cond(ReviewState.own_submitted, "Update my scores", "Submit my scores"),
            on_click=ReviewState.submit_scores,
            id="submit-scores",
        ),
        spacing="3",
        width="100%",
        id="score-form",
    )
    return rx.cond(
        ReviewState.can_score,
        _section(
            "Your scores",
            rx.text(
                "Score each criterion on its scale from what the candidate said. ",
                rx.cond(
                    ReviewState.others_hidden,
                    rx.text.strong(ReviewState.scorecard_count, " colleague(s) have scored; you see their scores after you submit yours."),
                    "Colleagues’ scores are shown after you submit yours.",
                ),
                size="1",
                color_scheme="gray",
            ),
            form,
            rx.cond(
                ReviewState.own_submitted,
                rx.vstack(
                    rx.heading("AI and human scores", size="3"),
                    rx.table.root(
                        rx.table.header(
                            rx.table.row(
                                rx.table.column_header_cell("Criterion"),
                                rx.table.column_header_cell("AI (advisory)"),
                                rx.table.column_header_cell("You"),
                                rx.table.column_header_cell("Humans (mean)"),
                            )
                        ),
                        rx.table.body(rx.foreach(ReviewState.comparison, _comparison_row)),
                        size="1",
                        width="100%",
                        id="score-comparison",
                    ),
                    rx.heading("Scorecards", size="3"),
                    rx.vstack(rx.foreach(ReviewState.scorecards, _scorecard_row), spacing="2", width="100%", id="scorecards"),
                    spacing="2",
                    width="100%",
                ),
            ),
            icon="user-check",
            id="review-scores",
        ),
    )


def _decision() -> rx.Component:
    """The hiring decision: a person's (admins record it); reviewers see it."""
    recorded = rx.cond(
        ReviewState.decision_record != "",
        rx.vstack(
            rx.badge(
                ReviewState.decision_record,
                color_scheme=rx.match(ReviewState.decision, ("advance", "green"), ("decline", "red"), "amber"),
                size="2",
                id="decision-record",
                data_decision=ReviewState.decision,
            ),
            rx.cond(ReviewState.decision_note_shown != "", rx.text(ReviewState.decision_note_shown, size="1", white_space="pre-wrap")),
            spacing="1",
        ),
        rx.text("No decision yet.", size="2", color_scheme="gray", id="decision-none"),
    )
    form = rx.vstack(
        _choices(ReviewState.decision_choice, ReviewState.set_decision_choice, "decide", "Decision"),
        _note_area(ReviewState.decision_note, ReviewState.set_decision_note, "Decision note", "decision-note"),
        _error(ReviewState.decision_error, "decision-error"),
        rx.button(
            "Record decision", on_click=ReviewState.record_decision, id="record-decision", disabled=ReviewState.decision_choice == ""
        ),
        spacing="2",
        width="100%",
    )
    return rx.cond(
        ReviewState.can_score,
        _section(
            "Decision",
            recorded,
            rx.text(
                "A person decides: the AI's recommendation is advisory. Each decision is in the timeline and sent to subscribed webhooks.",
                size="1",
                color_scheme="gray",
            ),
            rx.cond(ReviewState.can_manage, form),
            icon="gavel",
            id="review-decision",
        ),
    )


def _danger_zone() -> rx.Component:
    return rx.cond(
        ReviewState.can_manage,
        _section(
            "Candidate data",
            rx.text(
                "Deletes this candidate, all their interviews, recordings, transcripts and evaluations. "
                "An audit entry without personal data is kept.",
                size="2",
            ),
            rx.alert_dialog.root(
                rx.alert_dialog.trigger(
                    rx.button("Delete this candidate's data", color_scheme="red", variant="soft", id="delete-candidate")
                ),
                rx.alert_dialog.content(
                    rx.alert_dialog.title("Delete ", ReviewState.candidate_name, "'s data?"),
                    rx.alert_dialog.description("This cannot be undone."),
                    rx.hstack(
                        rx.alert_dialog.cancel(rx.button("Cancel", variant="soft", color_scheme="gray")),
                        rx.alert_dialog.action(
                            rx.button("Delete", color_scheme="red", on_click=ReviewState.delete_candidate, id="confirm-delete")
                        ),
                        spacing="3",
                        justify="end",
                        margin_top="4",
                    ),
                ),
            ),
            icon="trash-2",
        ),
    )


def review_sections() -> rx.Component:
    """Everything an admin reviews after the interview (the detail page embeds this)."""
    return rx.box(
        rx.cond(
            ReviewState.review_error != "",
            rx.callout(ReviewState.review_error, icon="lock", color_scheme="amber", id="review-error"),
            rx.cond(
                ReviewState.review_loaded,
                rx.vstack(
                    rx.cond(
                        ReviewState.action_message != "",
                        rx.callout(ReviewState.action_message, icon="info", id="review-action-message", width="100%"),
                    ),
                    rx.grid(
                        rx.vstack(_section("Recording", _player(), icon="audio-lines"), _transcript(), spacing="4", width="100%"),
                        rx.vstack(_evaluation(), _scores(), _decision(), _questions(), _integrity(), spacing="4", width="100%"),
                        # The transcript is what a reviewer reads most: its column gets the larger share.
                        columns=rx.breakpoints(initial="1", md="minmax(0, 3fr) minmax(0, 2fr)"),
                        spacing="4",
                        width="100%",
                    ),
                    _latency(),
                    _danger_zone(),
                    spacing="4",
                    width="100%",
                ),
                rx.center(rx.spinner(size="3"), padding="6"),
            ),
        ),
        on_mount=ReviewState.load_review,
        width="100%",
        id="review-sections",
    )
