"""Sign-in hardening: transaction binding, smart-lockout attempt windows, single-use report links

Revision ID: 5e1c7a9d2b31
Revises: 9c02e601a488
Create Date: 2026-12-01 21:50:00

"""
from alembic import op
import sqlalchemy as sa


revision = '5e1c7a9d2b31'
down_revision = '9c02e601a488'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('signin_attempt_window',
    sa.Column('key', sa.String(length=64), nullable=False),
    sa.Column('failures', sa.Integer(), nullable=False),
    sa.Column('in_flight', sa.Integer(), nullable=False),
    sa.Column('window_started_at', sa.DateTime(), nullable=True),
    sa.PrimaryKeyConstraint('key')
    )
    with op.batch_alter_table('signin_transaction', schema=None) as batch_op:
        batch_op.add_column(sa.Column('binding_hash', sa.String(length=64), nullable=True))
    with op.batch_alter_table('email_otp_code', schema=None) as batch_op:
        batch_op.add_column(sa.Column('reported_at', sa.DateTime(), nullable=True))


def downgrade():
    with op.batch_alter_table('email_otp_code', schema=None) as batch_op:
        batch_op.drop_column('reported_at')
    with op.batch_alter_table('signin_transaction', schema=None) as batch_op:
        batch_op.drop_column('binding_hash')
    op.drop_table('signin_attempt_window')
