"""Gentle wording guidance for danger statements and safety goals; it never blocks a save.

These are English heuristics built from word lists and patterns, not language understanding.
They aim to nudge, so they lean towards staying quiet: a statement worded in a way the lists do
not know may pass unremarked, and a well-written one may now and then get a suggestion the
worker can ignore. The rules themselves are in DOMAIN.md ("Wording guidance").
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from sofs_tui.domain.enums import Section

#: Councils advise three, some allow four; above this the mapping earns a warning.
RECOMMENDED_MAX_DANGER_STATEMENTS = 4

# A danger statement this long that names a label probably describes behaviour too, with verbs
# the list below does not know; past it, the label check stays quiet.
_LABEL_CHECK_MAX_WORDS = 40


@dataclass(frozen=True, slots=True)
class WordingWarning:
    """One suggestion about an entry's wording (or, with no entry, about the whole mapping)."""

    code: str  # stable id, e.g. "danger.no_worried_person"; the UI and tests key on it
    message: str  # kind and plain; says what to add
    entry_id: str | None = None


def _any_of(alternatives: str) -> str:
    """A whole-word pattern from alternatives separated by white space (they use \\s inside)."""
    return r"\b(?:" + "|".join(alternatives.split()) + r")\b"


def _normalise(text: str) -> str:
    """Typographic apostrophes (pasted from Word) become plain ones, so "won’t" is "won't"."""
    return text.replace("\u2019", "'").replace("\u2018", "'")


# --- Danger statements -------------------------------------------------------------------------

_ADVERBS = r"(?:(?:very|really|so|also|still|all|both|now|most|more|particularly|\w+ly)\s+)*"

# Who is worried. Each pattern implies that someone is named as worried.
_WORRIED_PERSON = [
    # "The school and the police are worried", "Dad was concerned", "we remain worried"
    re.compile(
        r"\b(?:is|are|am|was|were|'re|'m|remain|remains|remained|feel|feels|felt|be|been|"
        r"become|became|get|got|grew|grow)\s+" + _ADVERBS + r"(?:worried|concerned)\b",
        re.IGNORECASE,
    ),
    # "worried that ..." and "... concerned ..." anywhere
    re.compile(r"\bworried\s+that\b|\bconcerned\b", re.IGNORECASE),
    # "We worry that", "Children's services worry about"
    re.compile(r"\bworry\s+(?:that|about|because|when)\b", re.IGNORECASE),
    # "The school has concerns", "Gran raised worries"
    re.compile(
        r"\b(?:has|have|had|having|raise|raises|raised|share|shares|shared|express|expresses|"
        r"expressed|voice|voices|voiced)\s+(?:\w+\s+){0,2}(?:worries|concerns?)\b",
        re.IGNORECASE,
    ),
    # "Our worry is", "The school's main concern is" (but not "There's concern that")
    re.compile(
        r"(?:\b(?:our|my|their|his|her)|\b(?!(?:there|it|that|what|here|who)'s)\w+'s)\s+"
        r"(?:\w+\s+)?(?:worry|worries|concern|concerns)\b",
        re.IGNORECASE,
    ),
]

# "Gran worries that" names someone; "There are worries that" does not.
_SUBJECT_WORRIES = re.compile(r"\b(\w+)\s+worries\s+(?:that|about|because|when)\b", re.IGNORECASE)
_NOT_A_SUBJECT = frozenset(
    {"are", "is", "were", "was", "the", "no", "some", "any", "many", "real", "serious"}
    | {"significant", "main", "other", "these", "those", "with", "of", "and", "or"}
)

# Labels that stand in for behaviour. Abbreviations only in capitals ("DA", not "Da").
_LABELS: list[re.Pattern[str]] = [
    re.compile(_any_of("neglect neglectful"), re.IGNORECASE),
    re.compile(_any_of("DV DA")),
    re.compile(r"\bdomestic\s+(?:violence|abuse)\b", re.IGNORECASE),
    re.compile(r"\b(?:substance|drug|alcohol)\s+(?:mis)?(?:use|abuse)\b", re.IGNORECASE),
    re.compile(r"\balcoholism\b", re.IGNORECASE),
    re.compile(r"\bmental\s+(?:ill-?\s?)?health\b", re.IGNORECASE),
    re.compile(r"\b(?:emotional|physical|sexual)\s+abuse\b", re.IGNORECASE),
    re.compile(r"\btoxic\s+trio\b", re.IGNORECASE),
    re.compile(r"\bparenting\s+capacity\b", re.IGNORECASE),
    re.compile(_any_of("risk risks risky"), re.IGNORECASE),
]

# Things a caregiver does (or fails to do) that a statement might describe. Bare "hurt" and
# "harm" are left out on purpose: "could be hurt" describes impact, not behaviour.
_BEHAVIOUR = re.compile(
    _any_of(
        r"""
        hits? hitting shout\w* scream\w* yell\w* swear\w* swore threat\w* belittl\w* blam\w*
        call(?:s|ed|ing)\s+\w+\s+names argu\w* fight\w* fought
        push\w* shov\w* grab\w* slap\w* punch\w* kick\w* smack\w* chok\w* strangl\w*
        throw\w* threw hurts hurting injur(?:es|ing) shak(?:es|ing) shook burn\w* bites? biting
        touch\w* lock\w* shuts?\s+\w+\s+(?:in|out) hid(?:e|es|ing)?
        drink\w* drank drunk us(?:e|es|ed|ing) smok\w* inject\w*
        (?:tak(?:es|ing)|took)\s+(?:drugs|cocaine|heroin|cannabis|crack|pills|substances)
        leav(?:e|es|ing) forg[eo]t\w* feed\w* fed wash\w* clean\w* ignor\w* miss(?:es|ed|ing)
        sleep\w* slept stay(?:s|ed|ing)\s+in\s+bed
        left\s+(?:\w+\s+)?(?:alone|unsupervised|with|on\s+(?:her|his|their)\s+own)
        """
    ),
    re.IGNORECASE,
)

# What could happen to the child if nothing changes.
_IMPACT = re.compile(
    _any_of(
        r"""
        could might may will would likely if\s+nothing\s+changes at\s+risk\s+of grow\s+up
        be\s+(?:hurt|harmed|injured|scared|frightened|upset|neglected|left)
        """
    ),
    re.IGNORECASE,
)


def _names_who_is_worried(text: str) -> bool:
    if any(pattern.search(text) for pattern in _WORRIED_PERSON):
        return True
    return any(
        match.group(1).lower() not in _NOT_A_SUBJECT for match in _SUBJECT_WORRIES.finditer(text)
    )


def _bare_label(text: str) -> str | None:
    """The first label the statement leans on without describing behaviour, if any."""
    if len(text.split()) > _LABEL_CHECK_MAX_WORDS:
        return None
    found: str | None = None
    rest = text
    for pattern in _LABELS:
        match = pattern.search(rest)
        if match is None:
            continue
        if found is None:
            # The label as written, tidied ("Domestic  Violence" -> "domestic violence").
            words = " ".join(match.group().split())
            found = words if words.isupper() else words.lower()
        # "drug use" is a label; its "use" must not count as behaviour below.
        rest = pattern.sub(" ", rest)
    if found is None or _BEHAVIOUR.search(rest):
        return None
    return found


def danger_statement_warnings(text: str, entry_id: str | None = None) -> list[WordingWarning]:
    """Suggestions for a danger statement: who is worried, what the adult does, what could
    happen to the child if nothing changes. Empty text gets none (there is nothing to word yet).
    """
    text = _normalise(text)
    if not text.strip():
        return []
    warnings: list[WordingWarning] = []
    if not _names_who_is_worried(text):
        warnings.append(
            WordingWarning(
                "danger.no_worried_person",
                "Say who is worried, for example \"The health visitor and children's services "
                'are worried that…".',
                entry_id,
            )
        )
    label = _bare_label(text)
    if label is not None:
        warnings.append(
            WordingWarning(
                "danger.label_not_behaviour",
                f'Describe what the adult does rather than using the label "{label}": what '
                "happens, how often, and what the child sees or hears.",
                entry_id,
            )
        )
    if not _IMPACT.search(text):
        warnings.append(
            WordingWarning(
                "danger.no_impact",
                "Add what could happen to the child if nothing changes, for example how they "
                "could be hurt or how they might feel.",
                entry_id,
            )
        )
    return warnings


# --- Safety goals ------------------------------------------------------------------------------

_NEGATIVE = re.compile(
    _any_of(
        r"""
        will\s+not won't \w+n't not cannot never no\s+longer no\s+more
        (?<!bus\s)stop(?:s|ped|ping)? refrain\w* ceas\w*
        """
    ),
    re.IGNORECASE,
)

_NUMBER = r"(?:\d+|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|eighteen|several)"
_PERIOD = r"(?:days?|weeks?|months?|years?|(?:school\s+)?terms?)"

_DURATION = re.compile(
    "|".join(
        [
            # "six months", "a 12-week period", "for a year" (but not "once a week")
            rf"\b{_NUMBER}[\s-]+(?:full\s+|whole\s+|further\s+)?{_PERIOD}\b",
            rf"\bfor\s+(?:a|an|one|another)\s+(?:full\s+|whole\s+|further\s+)?{_PERIOD}\b",
            r"\bover\s+the\s+(?:next|coming|following)\b",
            r"\bfor\s+the\s+(?:next|coming|following)\b",
            r"\buntil\b",
            r"\bconsistently\s+for\b",
            rf"\bat\s+least\s+{_NUMBER}\b",
            r"\bfor\s+a\s+period\s+of\b",
            r"\bsustained\s+(?:for|over)\b",
        ]
    ),
    re.IGNORECASE,
)

# Any sign that someone does or shows something. Deliberately broad, so the warning only fires
# for goals that describe a state ("A safe home for Kai") rather than what anyone will do.
_DOING = re.compile(
    _any_of(
        r"""
        will \w+n't must should shall can needs?\s+to going\s+to be\s+able do does has have
        shows? showing make\s+sure ensures? keeps? keeping takes? taking makes? uses? gets?
        calls? asks? tells? attends? checks? puts? look(?:s|ing)?\s+after car(?:es|ing)?\s+for
        feeds? speaks? talks? works? stays? lets? helps? agrees? spends? goes
        is\s+\w+ing are\s+\w+ing
        """
    ),
    re.IGNORECASE,
)


def safety_goal_warnings(text: str, entry_id: str | None = None) -> list[WordingWarning]:
    """Suggestions for a safety goal: say what people will do (not what stops), show it in
    behaviour, and say how long it must last. Empty text gets none.
    """
    text = _normalise(text)
    if not text.strip():
        return []
    warnings: list[WordingWarning] = []
    if _NEGATIVE.search(text):
        warnings.append(
            WordingWarning(
                "goal.negative_framing",
                'Say what people will do rather than what will stop, for example "will talk '
                'calmly when they disagree" rather than "will not shout".',
                entry_id,
            )
        )
    if not _DURATION.search(text):
        warnings.append(
            WordingWarning(
                "goal.no_duration",
                'Add how long the change needs to last, for example "for six months".',
                entry_id,
            )
        )
    if not _DOING.search(text):
        warnings.append(
            WordingWarning(
                "goal.not_behavioural",
                "Say who will do what, so everyone can see it happening, for example "
                '"Dad will…" or "Mum will show…".',
                entry_id,
            )
        )
    return warnings


# --- The mapping as a whole --------------------------------------------------------------------


def mapping_warnings(danger_statement_count: int) -> list[WordingWarning]:
    """A suggestion when a mapping has more danger statements than councils recommend."""
    if danger_statement_count <= RECOMMENDED_MAX_DANGER_STATEMENTS:
        return []
    return [
        WordingWarning(
            "mapping.too_many_danger_statements",
            f"This mapping has {danger_statement_count} danger statements. Most mappings work "
            "best with three or four; consider combining statements about the same worry.",
        )
    ]


def entry_warnings(
    section: Section, text: str, entry_id: str | None = None
) -> list[WordingWarning]:
    """The suggestions for one entry, by its section (only danger statements and safety goals
    have wording guidance)."""
    if section == Section.DANGER_STATEMENT:
        return danger_statement_warnings(text, entry_id)
    if section == Section.SAFETY_GOAL:
        return safety_goal_warnings(text, entry_id)
    return []
