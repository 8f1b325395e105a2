"""The summary for parents: nothing marked not for the family ever reaches it, in any format;
undecided entries stop it with a list of what to decide; it says what the mapping says."""

from __future__ import annotations

import html
from dataclasses import replace
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sofs_tui.config import CouncilRules
from sofs_tui.domain.enums import (
    Agreement,
    AssessmentStatus,
    Audience,
    ChildVoiceTool,
    Section,
)
from sofs_tui.exports.parent_summary import AudienceUndecided, build_parent_summary
from sofs_tui.exports.render import render
from sofs_tui.store import mapping
from sofs_tui.store.export_views import (
    ParentSummarySource,
    SummaryEntry,
    SummaryScore,
    SummaryVoice,
    parent_summary_source,
)
from sofs_tui.store.store import Store
from tests.exports.builders import enrolled_store, entry, family, run
from tests.exports.pdf_text import inflated_streams, pdf_text

MADE_AT = datetime(2026, 11, 25, 9, 30, tzinfo=UTC)
FORMATS = ("text", "html", "pdf")

# Third-party words are capitals (with a few non-Latin ones, so the PDF font path is used);
# the family's words are lower case: the two can never be confused with each other or with
# the document's own labels.
SECRET = st.text(alphabet="ABCDEFGHJKLMNPQRSTUVWXYZÅÉÖΔΛΣЖЯ", min_size=6, max_size=10)
FAMILY_WORD = st.text(alphabet="abcdefghijklmnopqrstuvwxyz", min_size=6, max_size=10)


def appears(token: str, fmt: str, data: bytes) -> bool:
    """Whether `token` can be read anywhere in an exported file."""
    encoded = (token.encode("utf-8"), token.encode("utf-16-be"))
    blobs = [data, *(inflated_streams(data) if fmt == "pdf" else [])]
    if any(e in blob for e in encoded for blob in blobs):
        return True
    if fmt == "pdf":
        return token in pdf_text(data)
    text = data.decode("utf-8")
    return token in text or token in html.unescape(text)


@st.composite
def third_party(draw: st.DrawFn) -> tuple[str, tuple[str, ...]]:
    """A passage about someone outside the family: a name, an address or police text."""
    first, last, street = draw(SECRET), draw(SECRET), draw(SECRET)
    number = draw(st.integers(1, 300))
    form = draw(st.sampled_from(("name", "address", "police")))
    passage = {
        "name": f"{first} {last} told the school about the children.",
        "address": f"Lives at {number} {street} Road, SE{number % 28} {number % 9}QX.",
        "police": f"Police log: PC {first} attended; {last} was arrested at {street} Street.",
    }[form]
    return passage, (first, last, street)


@st.composite
def assessments(draw: st.DrawFn) -> tuple[ParentSummarySource, list[str], list[str]]:
    """A random assessment with family entries and third-party ones, and the words of each."""
    family_tokens: list[str] = []
    secrets: list[str] = []
    entries: list[SummaryEntry] = []
    sections = st.sampled_from(list(Section))
    for index in range(draw(st.integers(1, 6))):
        words = draw(st.lists(FAMILY_WORD, min_size=1, max_size=4))
        family_tokens += words
        entries.append(
            SummaryEntry(
                f"f{index}",
                draw(sections),
                " ".join(words),
                "",
                draw(st.sampled_from(list(Agreement))),
                "",
                Audience.FAMILY,
                None,
            )
        )
    for index in range(draw(st.integers(1, 5))):
        passage, tokens = draw(third_party())
        who, disputer = draw(SECRET), draw(SECRET)
        secrets += [*tokens, who, disputer]
        entries.append(
            SummaryEntry(
                f"x{index}",
                draw(sections),
                passage,
                f"Neighbour {who}",
                Agreement.DISPUTED,
                disputer,
                Audience.NOT_FOR_FAMILY,
                None,
            )
        )
    # Pair goals and danger statements across the two audiences, both ways round.
    dangers = [e for e in entries if e.section is Section.DANGER_STATEMENT]
    goals = [e for e in entries if e.section is Section.SAFETY_GOAL]
    paired = [
        replace(goal, goal_for_id=danger.id) for goal, danger in zip(goals, dangers, strict=False)
    ]
    entries = [next((p for p in paired if p.id == e.id), e) for e in entries]
    scores = [
        SummaryScore(None, "Mum", "", draw(st.integers(0, 10)), "zero", "ten", None),
    ]
    for danger in dangers:
        if danger.audience is Audience.NOT_FOR_FAMILY:
            scorer = draw(SECRET)
            secrets.append(scorer)  # a hidden worry's scores stay hidden too
        else:
            scorer = draw(FAMILY_WORD)
            family_tokens.append(scorer)
        scores.append(SummaryScore(danger.id, scorer, "", 5, "zero", "ten", None))
    silent, _ = draw(third_party())
    silent_word = draw(SECRET)
    secrets.append(silent_word)
    voices = [
        SummaryVoice(
            "Kai",
            ChildVoiceTool.THREE_HOUSES,
            "worries",
            f"{silent} {silent_word}",
            "",
            None,
            False,
        ),
    ]
    source = ParentSummarySource(
        assessment_id="a1",
        case_reference="C-1",
        family_name="Testfamily",
        title="Mapping",
        status=draw(st.sampled_from(list(AssessmentStatus))),
        signed_off_at=None,
        zero_wording="zero",
        ten_wording="ten",
        entries=tuple(entries),
        scores=tuple(scores),
        voices=tuple(voices),
        family_plan=(),
        next_conference_at=None,
        next_conference_kind=None,
        next_review_by=None,
    )
    return source, family_tokens, secrets


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(assessments())
def test_no_passage_marked_not_for_the_family_reaches_any_format(
    case: tuple[ParentSummarySource, list[str], list[str]],
) -> None:
    source, family_tokens, secrets = case
    document = build_parent_summary(source, CouncilRules(), MADE_AT)
    for fmt in FORMATS:
        data = render(document, fmt, MADE_AT)
        leaked = [s for s in secrets if appears(s, fmt, data)]
        assert not leaked, f"{fmt} export contains third-party text {leaked}"
        # The same check finds the family's own words, so it is able to fail.
        missing = [t for t in family_tokens if not appears(t, fmt, data)]
        assert not missing, f"{fmt} export lost the family's words {missing}"


def test_pdf_has_no_author_producer_creator_or_xmp() -> None:
    source = _source(
        [SummaryEntry("e", Section.HARM, "words", "", Agreement.AGREED, "", Audience.FAMILY, None)]
    )
    data = render(build_parent_summary(source, CouncilRules(), MADE_AT), "pdf", MADE_AT)
    everything = b"".join([data, *inflated_streams(data)])
    for key in (b"/Author", b"/Producer", b"/Creator", b"/Title", b"/Subject", b"/Keywords"):
        assert key not in everything
    assert b"xmpmeta" not in everything.lower() and b"/Metadata" not in everything
    assert "words" in pdf_text(data)


def _entry(
    entry_id: str,
    section: Section,
    text: str,
    audience: Audience = Audience.FAMILY,
    *,
    source: str = "",
    agreement: Agreement = Agreement.NOT_ASKED,
    disputed_by: str = "",
) -> SummaryEntry:
    return SummaryEntry(entry_id, section, text, source, agreement, disputed_by, audience, None)


def _source(entries: list[SummaryEntry]) -> ParentSummarySource:
    return ParentSummarySource(
        "a1", "C-1", "Testfamily", "Mapping", AssessmentStatus.DRAFT, None, "zero", "ten",
        tuple(entries), (), (), (), None, None, None,
    )  # fmt: skip


def test_undecided_entries_block_the_export_and_are_listed_by_section_and_first_words() -> None:
    entries = [
        _entry("a", Section.HARM, "Kai was hurt"),
        _entry(
            "b",
            Section.GREY_AREAS,
            "Nobody knows who looks after the children at night when mum works late",
            Audience.UNDECIDED,
        ),
        _entry("c", Section.NEXT_STEPS, "Call the school", Audience.UNDECIDED),
    ]
    with pytest.raises(AudienceUndecided) as raised:
        build_parent_summary(_source(entries), CouncilRules(), MADE_AT)
    message = raised.value.user_message
    assert "2 entries have not been marked" in message
    assert "- Grey areas: \u201cNobody knows who looks after the children at…\u201d" in message
    assert "- Next steps: \u201cCall the school\u201d" in message
    assert "Kai was hurt" not in message


def test_summary_uses_the_councils_section_labels() -> None:
    rules = CouncilRules(section_labels={Section.GREY_AREAS: "Things we are not sure about"})
    entries = [_entry("a", Section.GREY_AREAS, "who collects kai")]
    text = render(build_parent_summary(_source(entries), rules, MADE_AT), "text", MADE_AT).decode()
    assert "Things we are not sure about" in text and "Grey areas" not in text


def test_html_escapes_every_person_supplied_string() -> None:
    payload = '<script>alert("x")</script><img src=x onerror=alert(1)> & "quotes"'
    entries = [
        _entry(
            "a",
            Section.HARM,
            payload,
            source=payload,
            agreement=Agreement.DISPUTED,
            disputed_by=payload,
        )
    ]
    source = replace(_source(entries), family_name=payload, title=payload)
    page = render(build_parent_summary(source, CouncilRules(), MADE_AT), "html", MADE_AT).decode()
    assert "<script" not in page and "<img" not in page
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in page
    assert "http" not in page.split("</style>")[1]  # nothing to fetch
    assert "@media print" in page


def _mapping_store(store: Store) -> dict[str, str]:
    ids = family(store)
    a = ids["assessment"]
    danger = entry(store, a, Section.DANGER_STATEMENT, "we worry kai is left alone at night")
    goal = entry(store, a, Section.SAFETY_GOAL, "an adult is always home with kai for six months")
    mapping.pair_safety_goal(store, danger, goal)
    entry(store, a, Section.EXISTING_STRENGTHS, "mum takes kai to school every day", source="Mum")
    entry(store, a, Section.NEXT_STEPS, "book a family meeting", source="Social worker")
    entry(
        store, a, Section.HARM, "Police: ZEBEDEE QUINTRELL assaulted a neighbour at 4 Elm Road",
        audience=Audience.NOT_FOR_FAMILY, source="PC VANTABLACK",
    )  # fmt: skip
    mapping.record_score(store, a, scorer_name="Mum", value=7, rationale="Things are calmer")
    mapping.record_score(
        store, a, scorer_name="Police", value=2, rationale="Worried", danger_statement_id=danger
    )
    for text, consent in (("i like my bike", True), ("secret from XANTHOPPE", False)):
        mapping.record_child_voice(
            store, ids["case"], child_id=ids["child"], tool=ChildVoiceTool.THREE_HOUSES,
            part="good_things", text=text, written_by="Kai", consent_to_share=consent,
        )  # fmt: skip
    return ids


def test_summary_from_the_store_says_what_the_mapping_says(store: Store) -> None:
    ids = _mapping_store(store)
    source = parent_summary_source(store, case_reference="C-100")
    text = render(build_parent_summary(source, CouncilRules(), MADE_AT), "text", MADE_AT).decode()
    assert "Summary for the Testfamily family" in text
    assert "we worry kai is left alone at night" in text
    # The safety goal sits with its danger statement.
    worry_at = text.index("we worry kai is left alone")
    assert text.index("Safety goals: an adult is always home", worry_at) > worry_at
    assert "Who said this: Mum" in text
    # Next steps: what and who.
    assert "book a family meeting" in text and "Social worker" in text
    # Scores side by side with the words for 0 and 10, never averaged.
    lines = text.splitlines()
    assert any(line.split()[:2] == ["Mum", "7"] for line in lines if line.strip())
    assert any(line.split()[:2] == ["Police", "2"] for line in lines if line.strip())
    assert "0 means: Things are so bad" in text and "10 means: Everyone knows" in text
    assert "4.5" not in text and text.count("average") == 1  # only "never … averaged"
    # The child's words only with consent.
    assert "i like my bike" in text and "XANTHOPPE" not in text
    for secret in ("ZEBEDEE", "QUINTRELL", "Elm Road", "VANTABLACK"):
        assert secret not in text
    assert source.assessment_id == ids["assessment"]


def test_cli_exports_every_format_without_third_party_text(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    store = enrolled_store(data_dir)
    try:
        ids = _mapping_store(store)
    finally:
        store.lock()
    for fmt in FORMATS:
        out_file = tmp_path / f"summary.{fmt}"
        code, said = run(
            data_dir, "export", "parent-summary", "--assessment", ids["assessment"],
            "--format", fmt, "--out", str(out_file),
        )  # fmt: skip
        assert code == 0, said
        assert out_file.stat().st_mode & 0o077 == 0  # readable by its owner only
        data = out_file.read_bytes()
        assert appears("left alone at night", fmt, data) or appears("alone", fmt, data)
        for secret in ("ZEBEDEE", "QUINTRELL", "VANTABLACK", "XANTHOPPE"):
            assert not appears(secret, fmt, data), (fmt, secret)


def test_cli_refuses_to_export_with_undecided_entries_and_writes_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data_dir = tmp_path / "data"
    store = enrolled_store(data_dir)
    try:
        ids = family(store)
        entry(store, ids["assessment"], Section.HARM, "not yet decided passage", Audience.UNDECIDED)
    finally:
        store.lock()
    out_file = tmp_path / "summary.pdf"
    code, _ = run(data_dir, "export", "parent-summary", "--case", "C-100", "--format", "pdf",
                  "--out", str(out_file))  # fmt: skip
    assert code == 1
    assert "- Harm: \u201cnot yet decided passage\u201d" in capsys.readouterr().err
    assert not out_file.exists()


def test_cli_will_not_print_a_pdf_to_the_terminal(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data_dir = tmp_path / "data"
    store = enrolled_store(data_dir)
    try:
        family(store)
    finally:
        store.lock()
    code, said = run(data_dir, "export", "parent-summary", "--case", "C-100", "--format", "pdf")
    assert code == 1 and said == ""
    assert "--out FILE.pdf" in capsys.readouterr().err


def test_cli_text_goes_to_stdout_and_wrong_passphrase_fails_quietly(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data_dir = tmp_path / "data"
    store = enrolled_store(data_dir)
    try:
        ids = family(store)
        entry(store, ids["assessment"], Section.EXISTING_SAFETY, "grandma visits daily")
    finally:
        store.lock()
    code, said = run(data_dir, "export", "parent-summary", "--case", "C-100")
    assert code == 0 and "grandma visits daily" in said
    code, said = run(data_dir, "export", "parent-summary", "--case", "C-100", passphrase="nope")
    assert code == 1 and said == ""
    assert "grandma" not in capsys.readouterr().err


def test_unknown_case_reference_is_a_clear_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    enrolled_store(tmp_path / "data").lock()
    code, _ = run(tmp_path / "data", "export", "parent-summary", "--case", "NOPE-1")
    assert code == 1 and "No assessment found for case NOPE-1" in capsys.readouterr().err


def test_next_conference_and_family_plan_are_in_plain_words() -> None:
    from sofs_tui.domain.enums import ConferenceKind
    from sofs_tui.store.export_views import SummaryTask

    source = replace(
        _source([]),
        family_plan=(SummaryTask("tidy the kitchen", "Dad", date(2026, 12, 1), "Grandma"),),
        next_conference_at=datetime(2026, 12, 8, 10, 0, tzinfo=UTC),
        next_conference_kind=ConferenceKind.REVIEW,
    )
    text = render(build_parent_summary(source, CouncilRules(), MADE_AT), "text", MADE_AT).decode()
    assert "The next review child protection conference is on Tue 8 Dec 2026, 10:00." in text
    assert "tidy the kitchen" in text and "Tue 1 Dec 2026" in text and "Grandma" in text
    assert "RCPC" not in text and "ICPC" not in text


def test_pdf_says_when_the_font_lacks_characters_and_logs_none_of_them(
    caplog: pytest.LogCaptureFixture,
) -> None:
    source = _source([_entry("a", Section.HARM, "kai said 你好 to grandma")])
    document = build_parent_summary(source, CouncilRules(), MADE_AT)
    with caplog.at_level("DEBUG"):
        data = render(document, "pdf", MADE_AT)
    assert "cannot be shown in this PDF" in pdf_text(data)
    assert not any("你" in record.getMessage() for record in caplog.records)
    plain = _source([_entry("a", Section.HARM, "kai said hello to grandma")])
    data = render(build_parent_summary(plain, CouncilRules(), MADE_AT), "pdf", MADE_AT)
    assert "cannot be shown in this PDF" not in pdf_text(data)
