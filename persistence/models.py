"""SQLAlchemy 2 models for every record of both seeds.

Integrity lives here, in the database: unique usernames and emails, foreign keys, and
CHECK constraints on every enum-like column. The same schema runs on SQLite and PostgreSQL.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Column,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship
from sqlalchemy.sql import false

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

DIFFICULTIES = ("Easy", "Medium", "Hard")
ROOM_STATUSES = ("WAITING", "ACTIVE", "FINISHED")
CONTEST_RESULTS = ("WIN", "LOSS", "DRAW")
SESSION_STATUSES = ("ACTIVE", "ENDED", "EXPIRED")
ROLES = ("USER", "ADMIN")


def utcnow() -> datetime:
    return datetime.now(UTC)


def one_of(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


class UTCDateTime(TypeDecorator):
    """Timezone-aware UTC datetimes on both backends (SQLite keeps no offset)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is not None:
            if value.tzinfo is None:
                raise ValueError("naive datetime given to a UTC column")
            value = value.astimezone(UTC)
            if dialect.name == "sqlite":
                value = value.replace(tzinfo=None)
        return value

    def process_result_value(self, value, dialect):
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class Timestamped:
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class User(Timestamped, Base):
    __tablename__ = "users"
    __table_args__ = (CheckConstraint(one_of("role", ROLES), name="role"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    password_hash: Mapped[str | None] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(16), default="USER")
    provider: Mapped[str] = mapped_column(String(32), default="LOCAL")
    display_name: Mapped[str | None] = mapped_column(String(128))
    email_verified: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    """Proved by an OpenID provider's sign-in (registration proves nothing); an email change unsets it."""

    @property
    def is_admin(self) -> bool:
        return self.role == "ADMIN"


class RefreshToken(Base):
    """A refresh token, stored by hash. Tokens rotated from one login share a family."""

    __tablename__ = "refresh_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    family_id: Mapped[str] = mapped_column(String(36), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    rotated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


question_topics = Table(
    "question_topics",
    Base.metadata,
    Column("question_id", ForeignKey("questions.id", ondelete="CASCADE"), primary_key=True),
    Column("topic_id", ForeignKey("topics.id", ondelete="CASCADE"), primary_key=True),
)


class Topic(Base):
    __tablename__ = "topics"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)


class Language(Base):
    """A language submissions may use; `id` is its Judge0 language id."""

    __tablename__ = "languages"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    key: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(64))


class Question(Timestamped, Base):
    __tablename__ = "questions"
    __table_args__ = (CheckConstraint(one_of("difficulty", DIFFICULTIES), name="difficulty"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    bank_key: Mapped[str | None] = mapped_column(String(128), unique=True)
    title: Mapped[str] = mapped_column(String(200))
    statement: Mapped[str] = mapped_column(Text)
    difficulty: Mapped[str] = mapped_column(String(16), index=True)
    example_io: Mapped[list] = mapped_column(JSON, default=list)
    constraints: Mapped[list] = mapped_column(JSON, default=list)
    solution_outline: Mapped[str] = mapped_column(Text, default="")
    extra: Mapped[dict | None] = mapped_column("metadata", JSON)
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)

    topics: Mapped[list[Topic]] = relationship(secondary=question_topics, lazy="selectin", order_by=Topic.name)
    test_cases: Mapped[list[TestCase]] = relationship(
        lazy="selectin",
        order_by="TestCase.ordinal",
        cascade="all, delete-orphan",
        passive_deletes=True,
    )


class TestCase(Base):
    __tablename__ = "test_cases"
    __table_args__ = (UniqueConstraint("question_id", "ordinal"),)
    __test__ = False  # not a pytest class

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    question_id: Mapped[int] = mapped_column(ForeignKey("questions.id", ondelete="CASCADE"))
    ordinal: Mapped[int] = mapped_column(Integer)
    input: Mapped[str] = mapped_column(Text)
    output: Mapped[str] = mapped_column(Text)


class CollabSession(Base):
    __tablename__ = "collab_sessions"
    __table_args__ = (
        CheckConstraint(one_of("status", SESSION_STATUSES), name="status"),
        CheckConstraint("user1_id <> user2_id", name="distinct_users"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    topic: Mapped[str] = mapped_column(String(64))
    difficulty: Mapped[str] = mapped_column(String(16))
    question_id: Mapped[int | None] = mapped_column(ForeignKey("questions.id", ondelete="RESTRICT"))
    language: Mapped[str] = mapped_column(String(32))
    user1_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"), index=True)
    user2_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"), index=True)
    status: Mapped[str] = mapped_column(String(16), default="ACTIVE", index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    code: Mapped[str | None] = mapped_column(Text)

    participants: Mapped[list[CollabParticipant]] = relationship(
        lazy="selectin", order_by="CollabParticipant.joined_at", passive_deletes=True
    )

    @property
    def user_ids(self) -> tuple[int, int]:
        return (self.user1_id, self.user2_id)


class CollabParticipant(Base):
    __tablename__ = "collab_participants"

    session_id: Mapped[str] = mapped_column(ForeignKey("collab_sessions.id", ondelete="CASCADE"), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"), primary_key=True)
    joined_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    left_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class CollabSnapshot(Base):
    """The Yjs document of a session as one v1 update, with the plain code it holds."""

    __tablename__ = "collab_snapshots"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    session_id: Mapped[str] = mapped_column(ForeignKey("collab_sessions.id", ondelete="CASCADE"), index=True)
    document: Mapped[bytes] = mapped_column(LargeBinary)
    code: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Attempt(Base):
    __tablename__ = "attempts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    collab_id: Mapped[str] = mapped_column(ForeignKey("collab_sessions.id", ondelete="RESTRICT"), index=True)
    question_id: Mapped[int] = mapped_column(ForeignKey("questions.id", ondelete="RESTRICT"), index=True)
    user1_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"), index=True)
    user2_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"), index=True)
    language: Mapped[str] = mapped_column(String(32))
    content: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)


class Room(Base):
    __tablename__ = "rooms"
    __table_args__ = (CheckConstraint(one_of("status", ROOM_STATUSES), name="status"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    host_user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"), index=True)
    password: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16), default="WAITING", index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    start_time: Mapped[datetime | None] = mapped_column(UTCDateTime)
    end_time: Mapped[datetime | None] = mapped_column(UTCDateTime)
    duration_seconds: Mapped[int | None] = mapped_column(Integer)
    deadline: Mapped[datetime | None] = mapped_column(UTCDateTime)


ROOM_ID_BLOCK = 32
"""Room ids a front reserves at once: block n holds ids (n - 1) * 32 + 1 … n * 32."""


class RoomIdBlock(Base):
    """A block of room ids handed to one front before their rooms exist: the front then asks
    each room's actor (`room:{id}`) to create it, so rooms are written by their actors alone.
    Ids a front did not use before it stopped are skipped, as a sequence's would be."""

    __tablename__ = "room_id_blocks"
    __table_args__ = {"sqlite_autoincrement": True}

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)


class RoomMembership(Base):
    """A user's one WAITING or ACTIVE room: the primary key makes "one at a time" a database fact,
    so two fronts or hosts racing to seat the same user cannot both win."""

    __tablename__ = "room_memberships"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    room_id: Mapped[int] = mapped_column(ForeignKey("rooms.id", ondelete="CASCADE"), index=True)


class RoomProblem(Base):
    __tablename__ = "room_problems"

    room_id: Mapped[int] = mapped_column(ForeignKey("rooms.id", ondelete="CASCADE"), primary_key=True)
    question_id: Mapped[int] = mapped_column(ForeignKey("questions.id", ondelete="RESTRICT"), primary_key=True)
    ordinal: Mapped[int] = mapped_column(Integer)


class Participant(Base):
    __tablename__ = "participants"
    __table_args__ = (UniqueConstraint("room_id", "user_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    room_id: Mapped[int] = mapped_column(ForeignKey("rooms.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"), index=True)
    score: Mapped[int] = mapped_column(Integer, default=0)
    joined_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ParticipantProblem(Base):
    __tablename__ = "participant_problems"
    __table_args__ = (UniqueConstraint("room_id", "user_id", "question_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    room_id: Mapped[int] = mapped_column(ForeignKey("rooms.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"))
    question_id: Mapped[int] = mapped_column(ForeignKey("questions.id", ondelete="RESTRICT"))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    penalty: Mapped[int] = mapped_column(Integer, default=0)
    solved: Mapped[bool] = mapped_column(Boolean, default=False)
    solved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Submission(Base):
    """A contest submission; `status_id` uses Judge0's status ids (1 In Queue … 14)."""

    __tablename__ = "submissions"
    __table_args__ = (
        CheckConstraint("status_id BETWEEN 1 AND 14", name="status_id"),
        Index("ix_submissions_pending", "status_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    room_id: Mapped[int] = mapped_column(ForeignKey("rooms.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"), index=True)
    question_id: Mapped[int] = mapped_column(ForeignKey("questions.id", ondelete="RESTRICT"))
    language_id: Mapped[int] = mapped_column(ForeignKey("languages.id", ondelete="RESTRICT"))
    code: Mapped[str] = mapped_column(Text)
    status_id: Mapped[int] = mapped_column(Integer, default=1)
    status_description: Mapped[str] = mapped_column(String(64), default="In Queue")
    time_seconds: Mapped[float | None] = mapped_column(Float)
    memory_kb: Mapped[int | None] = mapped_column(Integer)
    compile_output: Mapped[str | None] = mapped_column(Text)
    failed_test_index: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    judged_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class ContestHistory(Base):
    __tablename__ = "contest_history"
    __table_args__ = (
        UniqueConstraint("user_id", "room_id"),
        CheckConstraint(one_of("result", CONTEST_RESULTS), name="result"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"), index=True)
    room_id: Mapped[int] = mapped_column(ForeignKey("rooms.id", ondelete="CASCADE"))
    solved: Mapped[int] = mapped_column(Integer)
    penalty: Mapped[int] = mapped_column(Integer)
    result: Mapped[str] = mapped_column(String(8))
    timestamp: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
