"""room id blocks: reserved by a front, then each room is created by its actor

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

BLOCK = 32  # persistence.models.ROOM_ID_BLOCK when this revision was written


def upgrade() -> None:
    op.create_table(
        "room_id_blocks",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_room_id_blocks")),
        sqlite_autoincrement=True,
    )
    bind = op.get_bind()
    highest = bind.execute(sa.text("SELECT MAX(id) FROM rooms")).scalar()
    if highest:  # the next block starts after the rooms that exist
        used = -(-highest // BLOCK)
        bind.execute(sa.text("INSERT INTO room_id_blocks (id) VALUES (:id)"), {"id": used})
        if bind.dialect.name == "postgresql":
            bind.execute(sa.text("SELECT setval(pg_get_serial_sequence('room_id_blocks', 'id'), :id)"), {"id": used})


def downgrade() -> None:
    op.drop_table("room_id_blocks")
