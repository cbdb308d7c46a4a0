"""The analysts' read-only role (`newsdesk db grant-analyst`): read rights added, nothing taken.

It grants; it never revokes or demotes. Run on the app's own role it once took away its login
and its writes, so the roles that run or own newsdesk are refused outright, and a role that
already exists keeps its login and whatever it could already do. Its password is changed only
when it cannot write newsdesk's data: a role that can is likely the app's runtime login (one
that is neither the current user nor an owner), which a new password would lock out.
"""

from __future__ import annotations

import psycopg
from psycopg import sql

from pipeline.errors import NewsdeskError
from pipeline.text.cleaning import escape_controls

#: Names PostgreSQL reserves or reads as a keyword in GRANT ... TO: a role by one of these names
#: is refused, or is not the role the user means.
RESERVED_NAMES = {"public", "none", "current_user", "current_role", "session_user", "user"}
#: PostgreSQL's NAMEDATALEN - 1: a longer name is silently cut, maybe to an existing role's name.
MAX_NAME_BYTES = 63

_GRANTS = (
    "GRANT CONNECT ON DATABASE {db} TO {role}",
    "GRANT USAGE ON SCHEMA public TO {role}",
    "GRANT SELECT ON ALL TABLES IN SCHEMA public TO {role}",
    "GRANT SELECT ON ALL SEQUENCES IN SCHEMA public TO {role}",
    "GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA public TO {role}",
    "ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT ON TABLES TO {role}",
    "ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT ON SEQUENCES TO {role}",
)

# Why a role must not be touched: it is who we are, it can do anything, or it owns our tables
# (pg_has_role MEMBER: the owner itself or a role that can act as it); and whether it can write
# the data (any of INSERT, UPDATE, DELETE on articles or raw_pages, granted or inherited).
_REFUSALS = """
SELECT r.rolname IN (current_user, session_user),
       r.rolsuper,
       EXISTS (SELECT 1 FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                WHERE n.nspname = 'public' AND pg_has_role(r.oid, c.relowner, 'MEMBER')),
       EXISTS (SELECT 1 FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                WHERE n.nspname = 'public' AND c.relname IN ('articles', 'raw_pages')
                  AND has_table_privilege(r.oid, c.oid, 'INSERT, UPDATE, DELETE'))
  FROM pg_roles r WHERE r.rolname = %s
"""


def check_role_name(role: str) -> None:
    """Refuse, in one line, a name that is empty, reserved, too long or holds control characters."""
    if not role:
        raise NewsdeskError("role name is empty")
    if escape_controls(role, keep="") != role:
        raise NewsdeskError(f"role name {role!r} holds a control character")
    if role.startswith("pg_") or role.lower() in RESERVED_NAMES:
        raise NewsdeskError(f"role name {role!r} is reserved by PostgreSQL")
    if len(role.encode()) > MAX_NAME_BYTES:
        raise NewsdeskError(f"role name {role[:20]!r}... is over {MAX_NAME_BYTES} bytes")


def grant_analyst(
    conn: psycopg.Connection, role: str, *, login: bool = False, password: str | None = None
) -> bool:
    """Create a read-only role, or add read rights to an existing one; True when created.

    SELECT on every table and view (and on those the migrating user creates later), EXECUTE on
    the functions. A new role is NOLOGIN unless `login`; an existing one only gains LOGIN and a
    password when asked (no password for one that can write articles or raw_pages), and keeps
    every other right it had. The password goes to the server
    already hashed (libpq's PQencryptPasswordConn), never as plain text in DDL, where logs and
    pg_stat_statements would keep it. DDL takes no bind parameters: psycopg.sql composes it.
    """
    check_role_name(role)
    name = sql.Identifier(role)
    with conn.transaction():
        refusals = conn.execute(_REFUSALS, [role]).fetchone()
        if refusals is not None:
            *in_use, writes = refusals
            _refuse_if_in_use(role, *in_use)
            if writes and password is not None:
                raise NewsdeskError(
                    f"role {role!r} can write newsdesk's articles or raw_pages (the app's own "
                    "login?): its password is not changed here")
        options = []
        if login or refusals is None:
            options.append(sql.SQL("LOGIN" if login else "NOLOGIN"))
        if password is not None:
            hashed = conn.pgconn.encrypt_password(password.encode(), role.encode())
            options.append(sql.SQL("PASSWORD {}").format(sql.Literal(hashed.decode())))
        if refusals is None:
            conn.execute(sql.SQL("CREATE ROLE {} {}").format(name, sql.SQL(" ").join(options)))
        elif options:
            conn.execute(sql.SQL("ALTER ROLE {} {}").format(name, sql.SQL(" ").join(options)))
        dbname = conn.execute("SELECT current_database()").fetchone()[0]
        for statement in _GRANTS:
            conn.execute(sql.SQL(statement).format(db=sql.Identifier(dbname), role=name))
    return refusals is None


def _refuse_if_in_use(role: str, is_us: bool, is_superuser: bool, owns_tables: bool) -> None:
    if is_us:
        raise NewsdeskError(f"role {role!r} is the one newsdesk connects as: not an analyst's")
    if is_superuser:
        raise NewsdeskError(f"role {role!r} is a superuser: not an analyst's")
    if owns_tables:
        raise NewsdeskError(f"role {role!r} owns (or can act as the owner of) newsdesk's tables: "
                            "not an analyst's")
