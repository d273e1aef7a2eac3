"""OData query options shared by every directory collection: $filter, $orderby, $top, $skiptoken paging with
@odata.nextLink, $count and $search (with `ConsistencyLevel: eventual`), and refusals in Graph's words.

A collection declares which properties may be filtered (and with which operators), sorted and searched; a
query outside that is refused, never silently ignored.
"""

import base64
import json
import re
from dataclasses import dataclass, field
from datetime import datetime, timezone
from urllib.parse import urlencode

from flask import request
from sqlalchemy import and_, false, func, not_, or_, select, true

from ..extensions import db
from ..oidc import naming
from ..kit.graph import GraphError

DEFAULT_PAGE = 100
MAX_PAGE = 999
KNOWN_OPTIONS = {
    "$select",
    "$filter",
    "$orderby",
    "$top",
    "$skiptoken",
    "$count",
    "$search",
    "$expand",
    "$skip",
    "$format",
}
BASIC_OPERATORS = {"eq", "startswith", "in"}
ADVANCED_OPERATORS = {"ne", "not", "endswith"}  # Graph's advanced queries: ConsistencyLevel + $count=true


def unsupported(message: str) -> GraphError:
    return GraphError(400, "Request_UnsupportedQuery", message)


def bad_request(message: str) -> GraphError:
    return GraphError(400, "Request_BadRequest", message)


@dataclass
class Prop:
    """One property of a collection's entity as the query options see it."""

    column: object
    kind: str = "string"  # string | bool | guid | datetime
    operators: set = field(default_factory=lambda: {"eq", "in", "startswith", "ne", "not"})
    sortable: bool = False
    lower: bool = False  # stored lower-case: compare case-insensitively, as Graph does for UPNs and mail


@dataclass
class Collection:
    resource: str  # Graph's type name in messages: User, Group, Application, ...
    props: dict[str, Prop]
    order: tuple  # the stable default order (unique last)
    searchable: tuple[str, ...] = ()
    needs_consistency_for_search: bool = True

    def page(self, stmt, to_graph, context: str, prepare=None) -> dict:
        """Apply the request's query options to `stmt` and return one page as Graph's collection body.
        `prepare(rows)` loads what the page's rows refer to in one go; `to_graph(row, prepared)` then shapes each."""
        _refuse_unknown_options()
        advanced = _advanced()
        if request.args.get("$expand"):
            raise bad_request("Expanding navigation properties is not supported on this collection.")
        if "$skip" in request.args:
            raise bad_request("'$skip' is not supported by the service.")
        if request.args.get("$filter"):
            stmt = stmt.where(Filter(self, request.args["$filter"], advanced).parse())
        search = request.args.get("$search")
        if search is not None:
            stmt = stmt.where(self._search(search))
        count = None
        if _flag("$count"):
            if not _eventual():
                raise bad_request("$count is not currently supported without the header 'ConsistencyLevel: eventual'.")
            count = db.session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery()))
        top = _top()
        offset = _offset()
        rows = list(db.session.scalars(stmt.order_by(*self._order(advanced)).offset(offset).limit(top + 1)))
        body = {"@odata.context": context}
        if count is not None:
            body["@odata.count"] = count
        if prepare is None:
            body["value"] = [to_graph(row) for row in rows[:top]]
        else:
            prepared = prepare(rows[:top])
            body["value"] = [to_graph(row, prepared) for row in rows[:top]]
        if len(rows) > top:
            body["@odata.nextLink"] = _next_link(offset + top)
        return body

    def _order(self, advanced: bool) -> list:
        raw = request.args.get("$orderby")
        if not raw:
            return list(self.order)
        clauses = []
        for part in raw.split(","):
            name, _, direction = part.strip().partition(" ")
            direction = direction.strip().lower() or "asc"
            prop = self.props.get(name)
            if prop is None or direction not in ("asc", "desc") or not (prop.sortable or advanced):
                raise unsupported("Sorting not supported for current query.")
            clauses.append(prop.column.desc() if direction == "desc" else prop.column.asc())
        return clauses + list(self.order)

    def _search(self, raw: str):
        """`$search="displayName:word"` (clauses joined by AND / OR): tokenized prefix match, as Graph does."""
        if self.needs_consistency_for_search and not _eventual():
            raise bad_request(
                "Request with $search query parameter only works through MSGraph with a special "
                "request header: 'ConsistencyLevel: eventual'"
            )
        parts = re.split(r"\s+(AND|OR)\s+", raw.strip())
        condition, joiner = None, None
        for index, part in enumerate(parts):
            if index % 2:
                joiner = part
                continue
            match = re.fullmatch(r'"(\w+):([^"]*)"', part.strip())
            if not match or match.group(1) not in self.searchable:
                raise bad_request(
                    f'Invalid $search clause {part[:100]!r}; use "<property>:<text>" on '
                    f"{', '.join(self.searchable) or 'no property of this resource'}."
                )
            column, text = self.props[match.group(1)].column, match.group(2).strip().lower()
            escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
            clause = or_(
                func.lower(column).like(f"{escaped}%", escape="\\"),
                func.lower(column).like(f"% {escaped}%", escape="\\"),
            )
            condition = (
                clause
                if condition is None
                else (and_(condition, clause) if joiner == "AND" else or_(condition, clause))
            )
        return condition if condition is not None else true()


def _refuse_unknown_options() -> None:
    for name in request.args:
        if name.startswith("$") and name not in KNOWN_OPTIONS:
            raise bad_request(f"Unrecognized query argument specified: '{name[:40]}'.")


def _eventual() -> bool:
    return request.headers.get("ConsistencyLevel", "").strip().lower() == "eventual"


def _flag(name: str) -> bool:
    value = request.args.get(name)
    if value is None:
        return False
    if value.lower() not in ("true", "false"):
        raise bad_request(f"The query option '{name}' must be true or false.")
    return value.lower() == "true"


def _advanced() -> bool:
    return _eventual() and _flag("$count")


def _top() -> int:
    raw = request.args.get("$top")
    if raw is None:
        return DEFAULT_PAGE
    if not raw.isdigit() or not 1 <= int(raw) <= MAX_PAGE:
        raise bad_request(f"Invalid page size specified: '{raw[:20]}'. Must be between 1 and {MAX_PAGE} inclusive.")
    return int(raw)


def _offset() -> int:
    raw = request.args.get("$skiptoken")
    if raw is None:
        return 0
    try:
        offset = json.loads(base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4)))["o"]
    except (ValueError, TypeError, KeyError):
        offset = None
    if not isinstance(offset, int) or isinstance(offset, bool) or not 0 <= offset <= 10**9:
        raise GraphError(
            400,
            "Directory_ExpiredPageToken",
            "The specified page token value has expired and can no longer be included in your request.",
        )
    return offset


LINK_SAFE = "$'(),"  # Graph's links keep $top, $filter=... readable


def _next_link(offset: int) -> str:
    token = base64.urlsafe_b64encode(json.dumps({"o": offset}).encode()).rstrip(b"=").decode()
    args = [(k, v) for k, v in request.args.items(multi=True) if k != "$skiptoken"] + [("$skiptoken", token)]
    return f"{naming.base_url()}{request.path}?{urlencode(args, safe=LINK_SAFE)}"


TOKEN = re.compile(
    r"\s*(?:(?P<str>'(?:[^']|'')*')|(?P<dt>\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?Z)|(?P<guid>[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-"
    r"[0-9a-fA-F]{4}-[0-9a-fA-F]{12})|(?P<num>-?\d+(?:\.\d+)?)|(?P<punct>[(),])|"
    r"(?P<word>[A-Za-z_][\w/.]*))"
)


class Filter:
    """A small recursive-descent parser for the $filter grammar Graph's directory supports:
    `p eq v`, `p ne v`, `startswith(p,'v')`, `endswith(p,'v')`, `p in ('a','b')`, `not`, `and`, `or`, brackets."""

    def __init__(self, collection: Collection, text: str, advanced: bool):
        if len(text) > 2000:
            raise unsupported("The $filter expression is too long.")
        self.collection, self.text, self.advanced = collection, text, advanced
        self.tokens = self._lex(text)
        self.at = 0

    def _lex(self, text: str) -> list[tuple[str, str]]:
        found, pos = [], 0
        while pos < len(text):
            if text[pos:].strip() == "":
                break
            match = TOKEN.match(text, pos)
            if not match:
                raise self._invalid()
            kind = match.lastgroup
            found.append((kind, match.group(kind)))
            pos = match.end()
        return found

    def _invalid(self, name: str | None = None) -> GraphError:
        if name:
            return unsupported(
                f"Unsupported or invalid query filter clause specified for property '{name[:64]}' "
                f"of resource '{self.collection.resource}'."
            )
        return bad_request(f"Invalid filter clause: {self.text[:200]}")

    def _peek(self, value: str | None = None):
        token = self.tokens[self.at] if self.at < len(self.tokens) else (None, None)
        if value is None:
            return token
        return token[1] is not None and token[1].lower() == value

    def _take(self, value: str | None = None):
        token = self._peek()
        if token[0] is None or (value is not None and token[1].lower() != value):
            raise self._invalid()
        self.at += 1
        return token

    def parse(self):
        condition = self._or()
        if self.at != len(self.tokens):
            raise self._invalid()
        return condition

    def _or(self):
        condition = self._and()
        while self._peek("or"):
            self._take()
            condition = or_(condition, self._and())
        return condition

    def _and(self):
        condition = self._unary()
        while self._peek("and"):
            self._take()
            condition = and_(condition, self._unary())
        return condition

    def _unary(self):
        if self._peek("not"):
            self._take()
            if not self.advanced:
                raise unsupported(
                    "The 'not' operator needs an advanced query ($count=true and ConsistencyLevel: eventual)."
                )
            return not_(self._unary())
        if self._peek("("):
            self._take()
            condition = self._or()
            self._take(")")
            return condition
        kind, word = self._peek()
        if kind == "word" and word.lower() in ("startswith", "endswith"):
            return self._function()
        return self._comparison()

    def _prop(self, operator: str) -> tuple[str, Prop]:
        kind, name = self._take()
        prop = self.collection.props.get(name) if kind == "word" else None
        if prop is None or operator not in prop.operators:
            raise self._invalid(name)
        if operator in ADVANCED_OPERATORS and not self.advanced:
            raise self._invalid(name)
        return name, prop

    def _function(self):
        _, function = self._take()
        function = function.lower()
        self._take("(")
        _, prop = self._prop(function)
        self._take(",")
        value = self._literal(prop, expect_string=True)
        self._take(")")
        column = func.lower(prop.column) if not prop.lower else prop.column
        pattern = value.lower()
        return (
            column.startswith(pattern, autoescape=True)
            if function == "startswith"
            else column.endswith(pattern, autoescape=True)
        )

    def _comparison(self):
        start = self.at
        self._take()
        operator = self._peek()[1]
        operator = operator.lower() if operator else None
        self.at = start
        if operator in ("ge", "gt", "le", "lt"):
            return self._range(operator)
        if operator not in ("eq", "ne", "in"):
            raise self._invalid(self._peek()[1] if self._peek()[0] == "word" else None)
        _, prop = self._prop(operator)
        self._take()
        if operator == "in":
            self._take("(")
            values = [self._literal(prop)]
            while self._peek(","):
                self._take()
                values.append(self._literal(prop))
            self._take(")")
            if len(values) > 15:
                raise unsupported("The 'in' operator takes at most 15 values.")
            return prop.column.in_(values)
        value = self._literal(prop)
        if value is None:
            return prop.column.is_(None) if operator == "eq" else prop.column.is_not(None)
        if prop.kind == "bool":
            condition = prop.column.is_(true() if value else false())
            return condition if operator == "eq" else not_(condition)
        return prop.column == value if operator == "eq" else or_(prop.column != value, prop.column.is_(None))

    def _range(self, operator: str):
        """`createdDateTime ge 2024-01-01T00:00:00Z` on date-time properties."""
        _, prop = self._prop(operator)
        self._take()
        kind, raw = self._take()
        if prop.kind != "datetime" or kind != "dt":
            raise self._invalid()
        moment = datetime.fromisoformat(raw.replace("Z", "+00:00")).astimezone(timezone.utc).replace(tzinfo=None)
        column = prop.column
        return {"ge": column >= moment, "gt": column > moment, "le": column <= moment, "lt": column < moment}[operator]

    def _literal(self, prop: Prop, expect_string: bool = False):
        kind, raw = self._take()
        if kind == "word" and raw.lower() == "null" and not expect_string:
            return None
        if prop.kind == "bool" and not expect_string:
            if kind == "word" and raw.lower() in ("true", "false"):
                return raw.lower() == "true"
            raise self._invalid()
        if prop.kind == "guid" and kind == "guid":
            return raw.lower()
        if kind != "str":
            raise self._invalid()
        value = raw[1:-1].replace("''", "'")
        return value.lower() if prop.lower else value
