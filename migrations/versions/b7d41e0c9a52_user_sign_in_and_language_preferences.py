"""User preferences: the default MFA method (signInPreferences) and the preferred language

Revision ID: b7d41e0c9a52
Revises: 5e1c7a9d2b31
Create Date: 2026-12-02 13:50:00

"""
from alembic import op
import sqlalchemy as sa


revision = 'b7d41e0c9a52'
down_revision = '5e1c7a9d2b31'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('user', schema=None) as batch_op:
        batch_op.add_column(sa.Column('preferred_mfa_method', sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column('preferred_language', sa.String(length=10), nullable=True))


def downgrade():
    with op.batch_alter_table('user', schema=None) as batch_op:
        batch_op.drop_column('preferred_language')
        batch_op.drop_column('preferred_mfa_method')
