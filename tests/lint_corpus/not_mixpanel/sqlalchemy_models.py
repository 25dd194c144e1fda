"""Models and queries (SQLAlchemy, Alembic, sqlite-utils)."""
import sqlalchemy as sa
import sqlite_utils
from alembic import op
from sqlalchemy import Index, select, text
from sqlalchemy.orm import relationship

metadata = sa.MetaData()
users = sa.Table("users", metadata, sa.Column("id", sa.Integer, primary_key=True),
                 sa.Column("deleted_at", sa.DateTime))
Index("ix_active", users.c.id, postgresql_where=text("deleted_at IS NULL"))
stmt = select(users).where(users.c.id == 5)
raw = text("SELECT * FROM users WHERE name = 'x' AND id > 3")
joined = sa.join(users, users, onclause=users.c.id == users.c.id)


def upgrade():
    op.create_index("ix_live", "users", ["id"], postgresql_where="deleted_at IS NULL")


db = sqlite_utils.Database("local.db")
old = db["events"].rows_where(where="age > 30 and name = 'x'", order_by="age")
db["events"].delete_where("id > ?", [10])
owner = relationship("User", primaryjoin="User.id == Order.user_id")

# sqlglot builders take SQL in where= and on=
from sqlglot import exp  # noqa: E402

purge = exp.delete("events", where="id > 1 and name = 'x'").sql()
joined_sql = exp.select("*").from_("a").join("b", on="a.id = b.id").where("a.x = 1").sql()
