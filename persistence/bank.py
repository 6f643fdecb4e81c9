"""The question bank shipped with the server: one folder per problem under `question_bank/`.

Each folder holds `question.json` (statement, examples, constraints, outline, hidden test
cases) and `solution.py`, the reference solution the tests run against those cases.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from persistence.models import Language, Question
from persistence.repositories import questions

BANK_DIR = Path(__file__).with_name("question_bank")


@dataclass(frozen=True)
class BankQuestion:
    slug: str
    data: questions.QuestionData
    solution: Path

    @property
    def key(self) -> str:
        return f"bank:{self.slug}"


def load_bank(directory: Path = BANK_DIR) -> list[BankQuestion]:
    bank = []
    for folder in sorted(path for path in directory.iterdir() if (path / "question.json").is_file()):
        raw = json.loads((folder / "question.json").read_text(encoding="utf-8"))
        data = questions.QuestionData(
            title=raw["title"],
            statement=raw["statement"],
            difficulty=raw["difficulty"],
            topic_names=raw["topicNames"],
            example_io=raw["exampleIO"],
            constraints=raw["constraints"],
            solution_outline=raw["solutionOutline"],
            metadata=raw.get("metadata"),
            test_cases=[(case["input"], case["output"]) for case in raw["testCases"]],
        )
        bank.append(BankQuestion(slug=folder.name, data=data, solution=folder / "solution.py"))
    return bank


def _unchanged(question: Question, data: questions.QuestionData) -> bool:
    return (
        question.deleted_at is None
        and question.title == data.title
        and question.statement == data.statement
        and question.difficulty == data.difficulty
        and [topic.name for topic in question.topics] == sorted(data.topic_names)
        and question.example_io == data.example_io
        and question.constraints == data.constraints
        and question.solution_outline == data.solution_outline
        and question.extra == data.metadata
        and [(case.input, case.output) for case in question.test_cases] == data.test_cases
    )


async def seed_questions(session: AsyncSession, bank: list[BankQuestion]) -> tuple[int, int, int]:
    """Insert or refresh every bank question, keyed by folder name: (created, updated, unchanged)."""
    created = updated = unchanged = 0
    for entry in bank:
        question = await session.scalar(select(Question).where(Question.bank_key == entry.key))
        if question is None:
            await questions.create(session, entry.data, bank_key=entry.key)
            created += 1
        elif _unchanged(question, entry.data):
            unchanged += 1
        else:
            await questions.update(session, question, entry.data, deleted=False)
            updated += 1
    return created, updated, unchanged


async def upsert_languages(session: AsyncSession, rows: list[tuple[int, str, str]]) -> None:
    """Reference rows for the languages table: (Judge0 id, key, display name)."""
    for language_id, key, name in rows:
        language = await session.get(Language, language_id)
        if language is None:
            session.add(Language(id=language_id, key=key, name=name))
        else:
            language.key, language.name = key, name
    await session.commit()
