"""``python -m infra.spam_corpus``: the content score (``handler/spam.py``) measured on the
labelled corpus in ``tests/spam_corpus/`` (its README says how it was made).

Prints how many genuine enquiries and how much spam the corpus holds, the
genuine enquiries held (the target is none), the spam caught, how often each
reason fires on either side, and what each threshold around ``THRESHOLD``
would hold: the figures to read before changing a weight, a phrase or the
threshold. ``tests/test_spam_corpus.py`` asserts on the same figures.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from handler.spam import THRESHOLD, SpamVerdict, score

CORPUS = Path(__file__).resolve().parent.parent / "tests" / "spam_corpus"
LABELS = ("genuine", "spam")
SWEEP = range(THRESHOLD - 2, THRESHOLD + 3)


@dataclass(frozen=True)
class Case:
    """One labelled submission, as its line in the corpus holds it."""

    id: str
    kind: str
    name: str
    email: str
    phone: str | None
    message: str
    note: str | None = None


@dataclass(frozen=True)
class Scored:
    case: Case
    verdict: SpamVerdict


@dataclass(frozen=True)
class Measurement:
    genuine: tuple[Scored, ...]
    spam: tuple[Scored, ...]

    def held(self, label: str, threshold: int = THRESHOLD) -> tuple[Scored, ...]:
        return tuple(scored for scored in getattr(self, label) if scored.verdict.score >= threshold)

    def caught_share(self, threshold: int = THRESHOLD) -> float:
        return len(self.held("spam", threshold)) / len(self.spam)

    def reasons(self, label: str) -> Counter[str]:
        """How many of the label's cases each reason fired on (held or not)."""
        return Counter(reason for scored in getattr(self, label) for reason in scored.verdict.reasons)


def load(label: str) -> tuple[Case, ...]:
    with (CORPUS / f"{label}.jsonl").open(encoding="utf-8") as lines:
        return tuple(Case(**json.loads(line)) for line in lines if line.strip())


def measure() -> Measurement:
    genuine, spam = (tuple(Scored(case, score(case.name, case.message)) for case in load(label)) for label in LABELS)
    return Measurement(genuine, spam)


def render(measurement: Measurement) -> str:
    held, caught = measurement.held("genuine"), measurement.held("spam")
    share, missed = measurement.caught_share(), len(measurement.spam) - len(caught)
    lines = [
        f"Spam corpus (tests/spam_corpus), threshold {THRESHOLD}:",
        f"  genuine enquiries: {len(measurement.genuine)}, held (false positives): {len(held)}",
        *[f"    held: {scored.case.id} {scored.verdict}" for scored in held],
        f"  spam: {len(measurement.spam)}, caught: {len(caught)} ({share:.1%}), let through (false negatives): {missed}",
        "",
        "  reason          genuine  spam   (cases it fired on, held or not)",
    ]
    genuine_reasons, spam_reasons = measurement.reasons("genuine"), measurement.reasons("spam")
    for reason in sorted(genuine_reasons.keys() | spam_reasons.keys()):
        lines.append(f"  {reason:<15} {genuine_reasons[reason]:>7}  {spam_reasons[reason]:>4}")
    lines += ["", "  threshold  genuine held  spam caught"]
    for threshold in SWEEP:
        genuine_held = len(measurement.held("genuine", threshold))
        lines.append(f"  {threshold:>9}  {genuine_held:>12}  {measurement.caught_share(threshold):>11.1%}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m infra.spam_corpus",
        description="The content score (handler/spam.py) measured on the labelled corpus in tests/spam_corpus/.",
    )
    parser.parse_args(argv)
    measurement = measure()
    print(render(measurement))
    return 1 if measurement.held("genuine") else 0


if __name__ == "__main__":
    sys.exit(main())
