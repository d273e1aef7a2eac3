"""Company branding per tenant (organizationalBranding)

Revision ID: c3a9e5d1f7b4
Revises: b7d41e0c9a52
Create Date: 2026-12-02 14:10:00

"""
from alembic import op
import sqlalchemy as sa


revision = 'c3a9e5d1f7b4'
down_revision = 'b7d41e0c9a52'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('tenant_branding',
    sa.Column('tenant_id', sa.String(length=36), nullable=False),
    sa.Column('background_color', sa.String(length=7), nullable=True),
    sa.Column('sign_in_page_text', sa.Text(), nullable=True),
    sa.Column('username_hint_text', sa.String(length=64), nullable=True),
    sa.Column('banner_logo', sa.LargeBinary(), nullable=True),
    sa.Column('banner_logo_type', sa.String(length=16), nullable=True),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenant.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('tenant_id')
    )


def downgrade():
    op.drop_table('tenant_branding')
