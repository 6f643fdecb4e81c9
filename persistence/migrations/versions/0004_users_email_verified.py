"""users.email_verified: whether an OpenID provider proved the email (OIDC sign-in links only then)

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-07
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("email_verified", sa.Boolean(), server_default=sa.false(), nullable=False))
    # Users an OIDC sign-in created had their email vouched for by the provider.
    op.execute(sa.text("UPDATE users SET email_verified = true WHERE provider <> 'LOCAL'"))


def downgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.drop_column("email_verified")
