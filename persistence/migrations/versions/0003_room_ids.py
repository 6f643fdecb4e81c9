"""room ids: reserved by a front, then the room is created by its actor

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-07
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "room_ids",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_room_ids")),
        sqlite_autoincrement=True,
    )
    bind = op.get_bind()
    highest = bind.execute(sa.text("SELECT MAX(id) FROM rooms")).scalar()
    if highest:  # the next reserved id follows the rooms that exist
        bind.execute(sa.text("INSERT INTO room_ids (id) VALUES (:id)"), {"id": highest})
        if bind.dialect.name == "postgresql":
            bind.execute(sa.text("SELECT setval(pg_get_serial_sequence('room_ids', 'id'), :id)"), {"id": highest})


def downgrade() -> None:
    op.drop_table("room_ids")
