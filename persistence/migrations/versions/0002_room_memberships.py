"""room memberships: at most one WAITING or ACTIVE room per user

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "room_memberships",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("room_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["room_id"], ["rooms.id"], name=op.f("fk_room_memberships_room_id_rooms"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_room_memberships_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_room_memberships")),
    )
    with op.batch_alter_table("room_memberships") as batch:
        batch.create_index(batch.f("ix_room_memberships_room_id"), ["room_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("room_memberships") as batch:
        batch.drop_index(batch.f("ix_room_memberships_room_id"))
    op.drop_table("room_memberships")
