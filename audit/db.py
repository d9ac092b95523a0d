"""The database: one proxy for every model, bound to SQLite or PostgreSQL at app creation."""
from decimal import Decimal
from urllib.parse import urlparse

from peewee import (
    AutoField,
    BooleanField,
    CharField,
    DatabaseProxy,
    DecimalField,
    ForeignKeyField,
    IntegerField,
    InterfaceError,
    Node,
    OperationalError,
    TextField,
    Value,
)
from playhouse.db_url import parse as parse_url
from playhouse.pool import PooledSqliteDatabase
from playhouse.postgres_ext import PooledPostgresqlExtDatabase, ServerSide

database = DatabaseProxy()

SQLITE_PRAGMAS = {
    "journal_mode": "wal",
    "busy_timeout": 5000,
    "foreign_keys": 1,
    "synchronous": "normal",
}


# Connections are pooled: a request takes one and gives it back at its end. Opening one per request
# cost more than the request's own work: on SQLite, closing the last connection checkpoints and
# removes the WAL, so the next commit recreates it; on PostgreSQL, every connection is a new server
# process. A pooled connection that broke (a server restart) is discarded when it is given back, and
# idle ones are renewed after STALE_SECONDS. max_connections=None: as many as requests in flight.
STALE_SECONDS = 300

# The largest id a row can have: SQLite's and PostgreSQL's 64-bit integers. A larger number in a link
# or a form names no row, and the drivers refuse to even send it (OverflowError: a 500).
LARGEST_ID = 2**63 - 1


def record_id(text):
    """A row id from a request's text, for `request.args.get(name, type=record_id)`: ValueError
    (which Werkzeug turns into the default) for anything but a whole number from 1 to LARGEST_ID."""
    value = int(text)
    if not 0 < value <= LARGEST_ID:
        raise ValueError(f"no row has id {text}")
    return value


def open_database(url):
    """Create (not connect) the peewee database for a sqlite:/// or postgresql:// URL."""
    scheme = urlparse(url).scheme
    if scheme == "sqlite":
        path = url[len("sqlite:///"):]
        # A pooled connection moves between threads, one request at a time: never shared at once.
        return PooledSqliteDatabase(path, pragmas=SQLITE_PRAGMAS, max_connections=None,
                                    stale_timeout=STALE_SECONDS, check_same_thread=False)
    if scheme in ("postgres", "postgresql"):
        params = parse_url(url)
        name = params.pop("database")
        # The Ext variant is the same database plus server-side cursors (see streamed()).
        return PooledPostgresqlExtDatabase(name, max_connections=None, stale_timeout=STALE_SECONDS, **params)
    raise ValueError(f"DATABASE_URL must start with sqlite:/// or postgresql://, not {url!r}")


def write_transaction():
    """A transaction that reads, then writes what it read allows. On SQLite it takes the write lock
    at its start (BEGIN IMMEDIATE): a transaction that has read and then writes fails at once with
    "database is locked" when another connection wrote meanwhile, without waiting busy_timeout.
    PostgreSQL's callers lock the rows they read (SELECT ... FOR UPDATE)."""
    if isinstance(database.obj, PooledSqliteDatabase):
        return database.atomic(lock_type="IMMEDIATE")
    return database.atomic()


def streamed(query, batch=2000):
    """The rows of a SELECT one at a time, none of them kept: for exports of any length.

    SQLite's cursor steps through the result as it is read; peewee's iterator() keeps no cache of
    the rows. A plain PostgreSQL cursor receives the whole result first (122 MB for two years of a
    chain's answers, bench/bench_exports.py --postgres): there the rows come through a server-side
    cursor, `batch` at a time, inside a transaction that ends with the last row."""
    if isinstance(database.obj, PooledPostgresqlExtDatabase):
        with database.atomic():
            yield from ServerSide(query, array_size=batch)
    else:
        yield from query.iterator()


def id_in(field, ids):
    """`field IN (ids)` for whole-number ids (branches, versions), with the ids bound as they are.

    peewee builds an IN list value by value, each through the field's conversion: 4 us an id, so a
    dashboard over an agency's 1,500 branches spent about 6 ms building each of its queries' SQL,
    more than the database spent running some of them. The SQL text and the parameters are the same
    as peewee's (tests/test_models.py compares them)."""
    ids = [int(value) for value in ids]
    if not ids:
        return field.in_([])  # peewee writes an empty IN as a condition that is never true
    return field.in_(_IdList(ids))


class _IdList(Node):
    """The parenthesised parameter list of id_in, added to the query's parameters in one step."""

    def __init__(self, ids):
        self.ids = ids

    def __sql__(self, ctx):
        ctx.literal("(" + ", ".join([ctx.state.param or "?"] * len(self.ids)) + ")")
        ctx._values.extend(self.ids)  # what ctx.value() does for each, without its checks (plain ints)
        return ctx


def init_app(app):
    """Bind the proxy to the configured database and open a connection per request."""
    import os

    url = app.config["DATABASE_URL"]
    if url.startswith("sqlite:///"):
        os.makedirs(os.path.dirname(os.path.abspath(url[len("sqlite:///"):])), exist_ok=True)
    database.initialize(open_database(url))

    @app.before_request
    def _connect():
        database.connect(reuse_if_open=True)

    @app.teardown_request
    def _close(exc):
        close_connection()


def close_connection():
    """Give this thread's connection back, also one the server dropped (a restart)."""
    if database.is_closed():
        return
    try:
        database.close()
    except (OperationalError, InterfaceError):
        # The server dropped the connection: there is nothing left to close.
        database.obj._state.reset()


def bulk_insert(model, rows):
    """Insert dict rows (all with the same keys) as one prepared statement run with executemany.

    peewee's insert_many builds the SQL text value by value, which costs more than the database's
    own work for thousands of rows; here the statement is built once and the driver binds the rows.
    Values are converted as peewee would (field.db_value), except those already of the type the
    driver takes for the column, which go through as they are: a 250-answer submission has 2,500.
    """
    if not rows:
        return
    names = list(rows[0])
    given = [model._meta.fields[name] for name in names]
    # Fields left out get their defaults, as with peewee's own inserts: constants converted once,
    # callables (timestamps) called for each row.
    left_out = [f for f in model._meta.sorted_fields if f.name not in names and f.default is not None]
    constant = [f for f in left_out if not callable(f.default)]
    generated = [f for f in left_out if callable(f.default)]
    fields = given + constant + generated
    columns = ", ".join(f'"{field.column_name}"' for field in fields)
    marks = ", ".join([database.obj.param] * len(fields))
    sql = f'INSERT INTO "{model._meta.table_name}" ({columns}) VALUES ({marks})'
    convert = [(index, _converter(field)) for index, field in enumerate(given)]
    fixed = [field.db_value(field.default) for field in constant]
    values = []
    for row in rows:
        value = [row[name] for name in names]
        for index, to_db in convert:
            value[index] = to_db(value[index])
        value += fixed
        value += [field.db_value(field.default()) for field in generated]
        values.append(value)
    database.cursor().executemany(sql, values)


# Types that both drivers bind as they are, for fields whose db_value would return them unchanged.
_NATIVE = {CharField: str, TextField: str, IntegerField: int, AutoField: int, BooleanField: bool}


def _converter(field):
    """field.db_value, skipped for a value the driver takes as it is.

    A Decimal already at the field's places goes through too: both drivers bind Decimals, and
    peewee's DecimalField would round-trip every one through str.
    """
    db_value = field.db_value
    if isinstance(field, ForeignKeyField):
        native = int if isinstance(field.rel_field, (AutoField, IntegerField)) else None
    else:
        native = _NATIVE.get(type(field))  # subclasses (JSON kept as text) convert on their own
    if native is not None:
        return lambda value: value if value.__class__ is native or value is None else db_value(value)
    if not isinstance(field, DecimalField):
        return db_value
    places = -field.decimal_places

    def to_db(value):
        if value.__class__ is Decimal and value.is_finite() and value.as_tuple().exponent >= places:
            return value
        return db_value(value)

    return to_db


class Prepared:
    """A peewee select compiled to SQL once per process and SQL dialect, then run with new values.

    On the hottest paths (every signed-in request loads its user; every fill page its visit) peewee
    spent four times longer building the SQL text than the database spent running it. `build` takes
    one placeholder per parameter and returns the query, e.g.
        USER_BY_ID = Prepared(lambda user_id: User.select().where(User.id == user_id))
        USER_BY_ID.first(7)
    Values are bound as given: pass what the column stores (field.db_value of a UUID, not the UUID).
    """

    def __init__(self, build):
        self.build = build
        self.arity = build.__code__.co_argcount
        self._compiled = {}  # SQL dialect (database class) -> (query, sql, params with _Slot markers)

    def rows(self, *values):
        """A peewee cursor wrapper over the result: models, tuples or dicts, as the query asks."""
        if len(values) != self.arity:
            raise TypeError(f"the query takes {self.arity} values, not {len(values)}")
        compiled = self._compiled.get(type(database.obj))
        if compiled is None:
            query = self.build(*(Value(_Slot(index), converter=False) for index in range(self.arity)))
            sql, params = query.sql()
            compiled = self._compiled[type(database.obj)] = [query, sql, params, None]
        query, sql, params, resolved = compiled
        bound = [values[param.index] if isinstance(param, _Slot) else param for param in params]
        # peewee's own (private) step from a cursor to rows, so rows are built and converted exactly
        # as the query would build them; tests/test_models.py compares the two.
        wrapper = query._get_cursor_wrapper(database.execute_sql(sql, bound))
        # The wrapper matches the result's columns to the selected fields (converters, which model
        # each column fills) before its first row; for one SQL text the result always has the same
        # columns, so that is done once and its outcome reused: it cost more than the query itself.
        if resolved is None:
            fresh = set(vars(wrapper))
            wrapper.initialize()
            resolved = compiled[3] = {name: value for name, value in vars(wrapper).items() if name not in fresh}
        else:
            vars(wrapper).update(resolved)
        wrapper.initialized = True
        return wrapper

    def first(self, *values):
        """The first row, or None."""
        return next(iter(self.rows(*values)), None)


class _Slot:
    """Where a Prepared query's parameter goes: compiled into the SQL as a parameter marker."""

    __slots__ = ("index",)

    def __init__(self, index):
        self.index = index


def reported_error(error):
    """The database error to tell the operator. SQLite ends a transaction by itself on some errors (a
    full disk: "database or disk is full"); the rollback that follows then fails with "cannot rollback
    - no transaction is active", and that hid the cause."""
    # The chain holds the driver's error under peewee's, for each of the two.
    while "no transaction is active" in str(error) and error.__context__ is not None:
        error = error.__context__
    return error
