"""social sign-in from the pages

Revision ID: 8c41d2e7b5f0
Revises: 3ae9a233bc4b
Create Date: 2026-12-07 14:40:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "8c41d2e7b5f0"
down_revision: str | None = "3ae9a233bc4b"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # A sign-in started from a page returns to it, signed in by cookie (null: the JSON API's).
    with op.batch_alter_table("oauth_states", schema=None) as batch_op:
        batch_op.add_column(sa.Column("return_to", sa.String(length=300), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("oauth_states", schema=None) as batch_op:
        batch_op.drop_column("return_to")
