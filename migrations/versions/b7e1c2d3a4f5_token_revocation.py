"""stateless access tokens: the revocation state

Revision ID: b7e1c2d3a4f5
Revises: efd7f1706542
Create Date: 2026-12-01 22:00:00

"""
from alembic import op
import sqlalchemy as sa


revision = 'b7e1c2d3a4f5'
down_revision = 'efd7f1706542'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('token_revocation',
    sa.Column('subject', sa.String(length=100), nullable=False),
    sa.Column('not_before', sa.DateTime(), nullable=False),
    sa.Column('recorded_at', sa.DateTime(), nullable=False),
    sa.Column('expires_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('subject')
    )
    with op.batch_alter_table('token_revocation', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_token_revocation_recorded_at'), ['recorded_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_token_revocation_expires_at'), ['expires_at'], unique=False)


def downgrade():
    op.drop_table('token_revocation')
