"""SOQL text -> syntax tree, for the subset the sync and its tools use.

The parser always consumes the whole input: anything it does not understand is a
``MALFORMED_QUERY`` pointing at the offending token, never a silently dropped clause. Keywords and
names are case-insensitive; string escapes follow Salesforce's quoted-string rules.

Deliberately strict where Salesforce's own rules are unclear (the conservative choice: a query
this parser accepts should also run on a real org):

* ``NOT`` only prefixes a whole condition or parenthesised group: ``(NOT A = 1) AND B = 2``;
  ``NOT A = 1 AND B = 2`` and ``A = 1 AND NOT B = 2`` are rejected.
* ``AND`` and ``OR`` cannot be mixed at one level without parentheses.
* ``\\%`` and ``\\_`` are accepted only inside a ``LIKE`` pattern.
* Semi-/anti-join subqueries select one plain field, have no ORDER BY/LIMIT/OFFSET, do not
  nest, are not combined with ``OR``, and at most two appear in a query.
* ``LAST_N_DAYS:n`` and friends are written without spaces around the colon.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

MAX_SEMI_JOINS = 2

# Date literals that take ":n" and those that do not (see soql_filter.date_range).
N_DATE_LITERALS = frozenset({"last_n_days", "next_n_days", "n_days_ago", "last_n_weeks", "next_n_weeks",
                             "last_n_months", "next_n_months"})
DATE_LITERALS = frozenset({"today", "yesterday", "tomorrow", "last_week", "this_week", "next_week",
                           "last_month", "this_month", "next_month", "last_year", "this_year",
                           "next_year", "last_90_days", "next_90_days"})

# Words that can never be a bare field name (they would hide a malformed clause).
_RESERVED = frozenset({"and", "or", "not", "select", "from", "where", "order", "by", "limit", "offset",
                       "in", "like", "null", "true", "false", "group", "having", "with", "using",
                       "for", "includes", "excludes", "asc", "desc", "nulls"})

_TOKEN = re.compile(
    r"""(?P<ws>\s+)
      | (?P<string>'(?:[^'\\]|\\.)*')
      | (?P<datetime>\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:\d{2}))
      | (?P<date>\d{4}-\d{2}-\d{2})
      | (?P<number>-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)
      | (?P<ident>[A-Za-z_][A-Za-z0-9_]*)
      | (?P<op><=|>=|!=|<>|=|<|>)
      | (?P<punct>[(),.:])""",
    re.VERBOSE | re.DOTALL,
)

_SIMPLE_ESCAPES = {"n": "\n", "N": "\n", "r": "\r", "R": "\r", "t": "\t", "T": "\t", "b": "\b",
                   "B": "\b", "f": "\f", "F": "\f", '"': '"', "'": "'", "\\": "\\"}


class SoqlError(Exception):
    """A query Salesforce would refuse; ``error_code`` and ``message`` go straight into the
    REST error body ``[{"message": ..., "errorCode": ...}]``."""

    def __init__(self, error_code: str, message: str) -> None:
        super().__init__(message)
        self.error_code = error_code
        self.message = message


def soql_error(code: str, text: str, pos: int, message: str) -> SoqlError:
    """Build an error in Salesforce's shape: the query line, a caret, ``ERROR at Row:r:Column:c``."""
    row = text.count("\n", 0, pos) + 1
    start = text.rfind("\n", 0, pos) + 1
    end = text.find("\n", pos)
    line = text[start:] if end < 0 else text[start:end]
    column = pos - start + 1
    return SoqlError(code, f"\n{line}\n{' ' * (column - 1)}^\nERROR at Row:{row}:Column:{column}\n{message}")


@dataclass(frozen=True)
class Token:
    kind: str  # string, datetime, date, number, ident, op, punct, eof
    text: str
    pos: int

    @property
    def word(self) -> str:
        return self.text.lower() if self.kind == "ident" else ""


@dataclass(frozen=True)
class Path:
    """A field reference as written: ``("Account", "Name")`` for ``Account.Name``."""

    parts: tuple[str, ...]
    pos: int

    @property
    def text(self) -> str:
        return ".".join(self.parts)


@dataclass(frozen=True)
class Literal:
    """kind: string | pattern (a LIKE regex) | number (Decimal) | boolean | null | date |
    datetime (aware UTC) | relative (``(name, n)``, e.g. ``("last_n_days", 7)``)."""

    kind: str
    value: Any
    pos: int


@dataclass(frozen=True)
class Comparison:
    path: Path
    op: str  # = != < <= > >= like in not in
    value: Literal | tuple[Literal, ...] | Query
    pos: int  # of the operator


@dataclass(frozen=True)
class Logical:
    op: str  # and | or
    items: tuple[Condition, ...]


@dataclass(frozen=True)
class Not:
    item: Condition


Condition = Comparison | Logical | Not


@dataclass(frozen=True)
class OrderKey:
    path: Path
    descending: bool
    nulls_first: bool


@dataclass(frozen=True)
class Query:
    """A parsed SELECT. ``fields`` is empty for ``SELECT COUNT()``. ``text`` is the whole
    statement (a subquery shares its parent's) so later errors can point into it."""

    text: str = field(repr=False)
    fields: tuple[Path, ...]
    is_count: bool
    sobject: str
    sobject_pos: int
    where: Condition | None = None
    order_by: tuple[OrderKey, ...] = ()
    limit: int | None = None
    offset: int | None = None
    offset_pos: int = 0


def tokenize(text: str) -> list[Token]:
    tokens = []
    pos = 0
    while pos < len(text):
        match = _TOKEN.match(text, pos)
        if match is None:
            message = "unterminated quoted string" if text[pos] == "'" else f"unexpected token: '{text[pos]}'"
            raise soql_error("MALFORMED_QUERY", text, pos, message)
        if match.lastgroup != "ws":
            tokens.append(Token(match.lastgroup, match.group(), pos))
        pos = match.end()
    tokens.append(Token("eof", "<EOF>", len(text)))
    return tokens


def decode_string(text: str, token: Token, like: bool) -> str:
    """Unescape a quoted string; with ``like`` return an anchored, case-insensitive regex source."""
    raw = token.text[1:-1]
    out: list[str] = []
    i = 0
    while i < len(raw):
        char = raw[i]
        if char != "\\":
            if like:
                char = ".*" if char == "%" else "." if char == "_" else re.escape(char)
            out.append(char)
            i += 1
            continue
        nxt = raw[i + 1]  # the token regex guarantees a character after each backslash
        if nxt in _SIMPLE_ESCAPES:
            value = _SIMPLE_ESCAPES[nxt]
            i += 2
        elif nxt == "u" and re.fullmatch(r"[0-9A-Fa-f]{4}", raw[i + 2:i + 6]):
            value = chr(int(raw[i + 2:i + 6], 16))
            i += 6
        elif like and nxt in "%_":
            value = nxt
            i += 2
        else:
            raise soql_error("MALFORMED_QUERY", text, token.pos + 1 + i,
                             "Invalid string literal: invalid escape sequence '\\" + nxt + "'")
        out.append(re.escape(value) if like else value)
    return "".join(out)


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.tokens = tokenize(text)
        self.i = 0
        self.semi_joins = 0

    # -- token helpers
    @property
    def tok(self) -> Token:
        return self.tokens[self.i]

    def peek(self, ahead: int) -> Token:
        return self.tokens[min(self.i + ahead, len(self.tokens) - 1)]

    def advance(self) -> Token:
        token = self.tokens[self.i]
        self.i += 1
        return token

    def error(self, message: str, pos: int) -> SoqlError:
        return soql_error("MALFORMED_QUERY", self.text, pos, message)

    def unexpected(self, token: Token | None = None) -> SoqlError:
        token = token or self.tok
        return self.error(f"unexpected token: '{token.text}'", token.pos)

    def at_word(self, *words: str) -> bool:
        return self.tok.word in words

    def expect_word(self, word: str) -> Token:
        if self.tok.word != word:
            raise self.unexpected()
        return self.advance()

    def expect_punct(self, char: str) -> Token:
        if self.tok.kind != "punct" or self.tok.text != char:
            raise self.unexpected()
        return self.advance()

    def at_punct(self, char: str) -> bool:
        return self.tok.kind == "punct" and self.tok.text == char

    # -- grammar
    def query(self, sub: bool = False) -> Query:
        self.expect_word("select")
        fields: tuple[Path, ...] = ()
        first = self.i
        is_count = self.at_word("count") and self.peek(1).text == "("
        if is_count:
            count_tok = self.advance()
            self.advance()
            if not self.at_punct(")"):
                raise self.error("aggregate functions other than COUNT() are not supported", count_tok.pos)
            self.advance()
        else:
            fields = (self.path(),)
            while self.at_punct(","):
                self.advance()
                fields += (self.path(),)
        if sub and (is_count or len(fields) != 1 or len(fields[0].parts) != 1):
            raise self.error("a semi join sub-select must select exactly one field of its object",
                             self.tokens[first].pos)
        self.expect_word("from")
        if self.tok.kind != "ident":
            raise self.unexpected()
        obj = self.advance()
        where = None
        if self.at_word("where"):
            self.advance()
            where = self.condition(sub)
        if sub:
            return Query(self.text, fields, False, obj.text, obj.pos, where)
        order_by = self.order_by() if self.at_word("order") else ()
        if order_by and is_count:
            raise self.error(f"Ordered field must be grouped or aggregated: {order_by[0].path.text}",
                             order_by[0].path.pos)
        limit = self.integer() if self.at_word("limit") else None
        offset_pos = self.tok.pos
        offset = self.integer() if self.at_word("offset") else None
        if self.tok.kind != "eof":
            raise self.unexpected()
        if self.semi_joins > MAX_SEMI_JOINS:
            raise self.error(f"Maximum {MAX_SEMI_JOINS} semi join sub-selects are allowed", 0)
        return Query(self.text, fields, is_count, obj.text, obj.pos, where, order_by, limit, offset,
                     offset_pos)

    def path(self) -> Path:
        token = self.tok
        if token.kind != "ident" or (token.word in _RESERVED and self.peek(1).text != "."):
            raise self.unexpected()
        parts = [self.advance().text]
        while self.at_punct("."):
            self.advance()
            if self.tok.kind != "ident":
                raise self.unexpected()
            parts.append(self.advance().text)
        return Path(tuple(parts), token.pos)

    def integer(self) -> int:
        self.advance()
        token = self.tok
        if token.kind != "number" or not token.text.isdigit():
            raise self.unexpected()
        self.advance()
        return int(token.text)

    def order_by(self) -> tuple[OrderKey, ...]:
        self.advance()
        self.expect_word("by")
        keys = []
        while True:
            path = self.path()
            descending = self.at_word("desc")
            if descending or self.at_word("asc"):
                self.advance()
            nulls_first = not descending
            if self.at_word("nulls"):
                self.advance()
                if not self.at_word("first", "last"):
                    raise self.unexpected()
                nulls_first = self.advance().word == "first"
            keys.append(OrderKey(path, descending, nulls_first))
            if not self.at_punct(","):
                return tuple(keys)
            self.advance()

    def condition(self, sub: bool) -> Condition:
        """``NOT primary`` or ``primary {AND primary}`` or ``primary {OR primary}``."""
        if self.at_word("not"):
            self.advance()
            return Not(self.primary(sub))
        first = self.primary(sub)
        if not self.at_word("and", "or"):
            return first
        op = self.tok.word
        items = [first]
        while self.at_word(op):
            self.advance()
            items.append(self.primary(sub))
        if op == "or" and any(_has_semi_join(item) for item in items):
            raise self.error("Semi join sub-selects are not allowed with the 'OR' operator", 0)
        return Logical(op, tuple(items))

    def primary(self, sub: bool) -> Condition:
        if self.at_punct("("):
            self.advance()
            inner = self.condition(sub)
            self.expect_punct(")")
            return inner
        return self.comparison(sub)

    def comparison(self, sub: bool) -> Comparison:
        path = self.path()
        op_tok = self.tok
        if op_tok.kind == "op":
            self.advance()
            op = {"<>": "!="}.get(op_tok.text, op_tok.text)
            return Comparison(path, op, self.literal(), op_tok.pos)
        if op_tok.word == "like":
            self.advance()
            return Comparison(path, "like", self.literal(like=True), op_tok.pos)
        negated = op_tok.word == "not"
        if negated:
            self.advance()
        self.expect_word("in")
        op = "not in" if negated else "in"
        open_tok = self.expect_punct("(")
        if self.at_word("select"):
            if sub:
                raise self.error("Nesting of semi join sub-selects is not supported", self.tok.pos)
            inner = self.query(sub=True)
            self.expect_punct(")")
            self.semi_joins += 1
            return Comparison(path, op, inner, open_tok.pos)
        values = [self.literal()]
        while self.at_punct(","):
            self.advance()
            values.append(self.literal())
        self.expect_punct(")")
        return Comparison(path, op, tuple(values), op_tok.pos)

    def literal(self, like: bool = False) -> Literal:
        token = self.advance()
        kind, pos = token.kind, token.pos
        try:
            if kind == "string":
                return Literal("pattern" if like else "string", decode_string(self.text, token, like), pos)
            if kind == "number":
                return Literal("number", Decimal(token.text), pos)
            if kind == "date":
                return Literal("date", date.fromisoformat(token.text), pos)
            if kind == "datetime":
                value = datetime.fromisoformat(token.text.replace("Z", "+00:00"))
                return Literal("datetime", value.astimezone(UTC), pos)
        except ValueError:
            raise self.error(f"invalid date or dateTime literal: {token.text}", pos) from None
        word = token.word
        if word in ("true", "false"):
            return Literal("boolean", word == "true", pos)
        if word == "null":
            return Literal("null", None, pos)
        if word in DATE_LITERALS:
            return Literal("relative", (word, 0), pos)
        if word in N_DATE_LITERALS:
            colon, number = self.peek(0), self.peek(1)
            if not (colon.text == ":" and colon.pos == pos + len(token.text) and number.kind == "number"
                    and number.text.isdigit() and number.pos == colon.pos + 1):
                raise self.error(f"invalid date literal: {token.text}", pos)
            self.i += 2
            return Literal("relative", (word, int(number.text)), pos)
        raise self.unexpected(token)


def _has_semi_join(condition: Condition) -> bool:
    if isinstance(condition, Comparison):
        return isinstance(condition.value, Query)
    if isinstance(condition, Not):
        return _has_semi_join(condition.item)
    return any(_has_semi_join(item) for item in condition.items)


def parse(text: str) -> Query:
    """Parse a whole SOQL statement; raise ``SoqlError('MALFORMED_QUERY')`` on anything else."""
    return _Parser(text).query()
