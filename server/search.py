"""Duty search: find a child from what a caller gives you at 2 a.m.

One row of ``person_search`` per person holds normalised search text:

- ``names``    `` given family | alias tokens `` — lower case, ASCII-folded, one space between
  tokens and a space at each end, so `` tok `` is an exact token and `` tok`` a prefix;
  the ``|`` parts the person's own name from their aliases;
- ``phonetic`` the Metaphone code of every name token, plus ``g<canonical>`` for each
  first-name variant group a token belongs to (Mo, Mohammed, Muhammad... → ``gmohammed``);
- ``address``  address and postcode tokens ("nn13 6ab": a postcode is matched as a phrase);
- ``ids``      la_child_id, UPN and NHS number, lower case, no spaces;
- ``dob``      ``YYYY-MM-DD`` (the expected date of birth for an unborn child).

A query is cut into tokens; each token may be read several ways (a name, a phonetic
code, an address word, an ID, a case id, a date of birth) and a person matches when
*every* token matches one of its readings. Each token scores the best reading it
matched: an exact ID 1100, a full date of birth or own name 1020, an alias 1018, a full
postcode 1016, a month of birth 1015, a name variant 1014, a phonetic match 1012,
a year of birth 1010, an address word 1008 ("strict" readings, all ≥ 1000), and a
name prefix 4, an address prefix 3, a phonetic prefix 2 ("loose" readings). IDs
match whole, never by prefix. A person's score is the sum, so one with more strictly
matched tokens always ranks higher; ties go to people with an open case, then to the
lower person id.

Candidates come from an index on both databases: on SQLite an external-content FTS5
table ``person_search_fts`` (migration 0002, kept in step by triggers), on PostgreSQL
pg_trgm GIN indexes answering ``LIKE '% tok %'`` and a pattern index on ``dob``. A few
candidates are all scored in one statement; many (a common surname, a year, one typed
letter) are read tier by tier, so the cost follows the page and not the matches (see
``_Query``). The order is the same either way.
"""

from __future__ import annotations

import json
import re
import unicodedata
from datetime import date
from functools import lru_cache
from typing import Any, Iterable, Iterator, Mapping

import jellyfish
from sqlalchemy import Connection, bindparam, select, text

from server.access import restricted_message
from server.auth import Principal
from server.tables import case_access, cases, people
from server.views import flags_by_case

FTS_TABLE = "person_search_fts"

MAX_QUERY_CHARS = 200
MAX_TOKENS = 8
MAX_LIMIT = 100
# up to this many candidates are all scored in one statement; more are read tier by tier.
# Tiers pay off for one token (a surname, a year, a letter); with several tokens there are
# many more of them (one level per token), so scoring everything stays cheaper for longer.
# Measured at 100k people on SQLite (CPU per search, 613 one-token and 1,920 two-token
# queries): 1500 → 400 for one token took p95 from 8.8 to 4.3 ms, 3000 → 800 for several
# from 8.9 to 7.2 ms, with the same results for every query.
SMALL = {"sqlite": 400, "postgresql": 400}
SMALL_MULTI = {"sqlite": 800, "postgresql": 3000}
# tier by tier: at most this many (level per token) combinations, so many score groups per statement
MAX_COMBOS = 64
GROUPS_PER_STATEMENT = 8

# scores (see the module docstring); every strict reading is >= STRICT
STRICT = 1000
S_ID = 1100
S_NAME = 1020
S_DOB = 1020
S_ALIAS = 1018
S_DOB_MONTH = 1015
S_VARIANT = 1014
S_PHONETIC = 1012
S_DOB_YEAR = 1010
S_POSTCODE = 1016
S_ADDRESS = 1008
S_NAME_PREFIX = 4
S_ADDRESS_PREFIX = 3
S_PHONETIC_PREFIX = 2

# First names that are the same name to a caller: nicknames and spellings that
# Metaphone does not already join. A token may be in more than one group.
_VARIANT_GROUPS: dict[str, tuple[str, ...]] = {
    "mohammed": ("mohammed", "mohammad", "mohamed", "mohamad", "muhammad", "muhammed", "muhamed", "mohammod",
                 "mohd", "mohamud", "mahomed", "mo", "moe", "mohammedali"),
    "john": ("john", "jon", "johnny", "jonny", "johnnie", "jonathan", "jonathon", "johnathan", "jon"),
    "katherine": ("katherine", "catherine", "kathryn", "cathryn", "katharine", "catharine", "kathrine",
                  "kath", "cath", "kathy", "cathy", "kate", "katie", "katy", "kat", "kitty"),
    "elizabeth": ("elizabeth", "elisabeth", "liz", "lizzie", "lizzy", "beth", "betty", "eliza", "libby"),
    "alexander": ("alexander", "alex", "alec", "xander", "sandy"),
    "alexandra": ("alexandra", "alex", "lexi", "lexie", "sasha"),
    "samuel": ("samuel", "sam", "sammy"),
    "samantha": ("samantha", "sam", "sammy"),
    "thomas": ("thomas", "tom", "tommy"),
    "william": ("william", "will", "billy", "bill", "liam", "willie"),
    "robert": ("robert", "rob", "robbie", "bob", "bobby", "bert"),
    "daniel": ("daniel", "dan", "danny"),
    "michael": ("michael", "mike", "mikey", "mick", "micky", "mikhail"),
    "christopher": ("christopher", "chris", "kristopher", "kit"),
    "joshua": ("joshua", "josh"),
    "jessica": ("jessica", "jess", "jessie"),
    "rebecca": ("rebecca", "becky", "becca", "rebekah"),
    "abigail": ("abigail", "abbie", "abby", "abi"),
    "eleanor": ("eleanor", "elinor", "ellie", "nell", "nellie"),
    "charlotte": ("charlotte", "charlie", "lottie"),
    "charles": ("charles", "charlie", "chas", "chuck"),
    "james": ("james", "jim", "jimmy", "jamie"),
    "joseph": ("joseph", "joe", "joey"),
    "benjamin": ("benjamin", "ben", "benny"),
    "matthew": ("matthew", "matt", "mathew"),
    "nicholas": ("nicholas", "nick", "nicky", "nikolas"),
    "anthony": ("anthony", "tony", "antony"),
    "edward": ("edward", "ed", "eddie", "ted", "teddy"),
    "margaret": ("margaret", "maggie", "meg", "peggy"),
    "victoria": ("victoria", "vicky", "tori"),
    "sean": ("sean", "shaun", "shawn", "shaune"),
    "aisha": ("aisha", "ayesha", "aysha", "aishah", "ayisha"),
    "leigh": ("leigh", "lee"),
    "zoe": ("zoe", "zoey", "zoie"),
    "sophie": ("sophie", "sophia", "sofia", "sofie"),
    "isabel": ("isabel", "isabelle", "isobel", "izzy", "bella"),
    "stephen": ("stephen", "steven", "steve", "stevie"),
    "frederick": ("frederick", "fred", "freddie", "freddy"),
    "harry": ("harry", "henry", "harrison"),
    "oliver": ("oliver", "ollie", "olly"),
    "amelia": ("amelia", "millie", "emilia"),
    "olivia": ("olivia", "liv", "livvy"),
    "jacob": ("jacob", "jake", "jakub", "yakub"),
    "ibrahim": ("ibrahim", "ebrahim", "ibraheem"),
    "yusuf": ("yusuf", "yousef", "yousuf", "youssef", "joseph"),
}
VARIANTS: dict[str, tuple[str, ...]] = {}
for _canonical, _members in _VARIANT_GROUPS.items():
    for _member in _members:
        if _canonical not in VARIANTS.get(_member, ()):
            VARIANTS[_member] = VARIANTS.get(_member, ()) + (_canonical,)
del _canonical, _members, _member

_NON_TOKEN = re.compile(r"[^0-9a-z]+")
_APOSTROPHES = re.compile(r"['\u2019\u2018`]")


def _fold_any(value: str) -> str:
    """Lower case, ASCII only, no apostrophes: "Zoë O'Brien" → "zoe obrien"."""
    value = value.lower()
    if not value.isascii():
        value = _APOSTROPHES.sub("", value)
        value = unicodedata.normalize("NFKD", value).encode("ascii", "ignore").decode("ascii")
    elif "'" in value or "`" in value:
        value = _APOSTROPHES.sub("", value)
    return value


def tokens(value: str | None) -> list[str]:
    """The search tokens of a piece of text, in order."""
    if not value:
        return []
    return [t for t in _NON_TOKEN.split(_fold_any(value)) if t]


def _metaphone(token: str) -> str:
    if not token.isalpha():
        return ""
    return jellyfish.metaphone(token).lower()


def _spaced(items: list[str]) -> str:
    return " " + " ".join(dict.fromkeys(items)) + " " if items else " "


# --- indexing --------------------------------------------------------------------------------------------------


@lru_cache(maxsize=65536)
def _name_tokens(value: str) -> tuple[str, ...]:
    return tuple(tokens(value))


@lru_cache(maxsize=65536)
def _codes(token: str) -> tuple[str, ...]:
    """The phonetic column's entries for one name token: its Metaphone code and variant groups."""
    out = []
    if len(token) > 1:
        code = _metaphone(token)
        if code:
            out.append(code)
    out += ["g" + g for g in VARIANTS.get(token, ())]
    return tuple(out)


def index_row(person: Mapping[str, Any]) -> dict[str, Any]:
    """The ``person_search`` row for a row of ``people`` (aliases as JSON text or a list)."""
    own = _name_tokens(person["given_name"] or "") + _name_tokens(person["family_name"] or "")
    raw_aliases = person.get("aliases")
    if isinstance(raw_aliases, str):
        raw_aliases = json.loads(raw_aliases) if raw_aliases not in ("", "[]") else ()
    alias_tokens: tuple[str, ...] = ()
    for alias in raw_aliases or ():
        alias_tokens += _name_tokens(alias)
    codes: list[str] = []
    for token in own:
        codes += _codes(token)
    for token in alias_tokens:
        codes += _codes(token)

    place = tokens(person.get("address")) + tokens(person.get("postcode"))
    ids = [person["la_child_id"].lower()] if person.get("la_child_id") else []
    if person.get("upn"):
        ids.append(person["upn"].lower())
    if person.get("nhs_number"):
        ids.append(person["nhs_number"].replace(" ", ""))

    return {
        "person_id": person["id"],
        "names": " " + " ".join(dict.fromkeys(own)) + " | " + " ".join(dict.fromkeys(alias_tokens)) + " ",
        "phonetic": _spaced(codes),
        "address": _spaced(place),
        "ids": _spaced(ids),
        "dob": person.get("dob") or person.get("expected_dob"),
    }


_INSERT_TRIGGER = (
    f"CREATE TRIGGER person_search_ai AFTER INSERT ON person_search BEGIN "
    f"INSERT INTO {FTS_TABLE}(rowid, names, phonetic, address, ids, dob) "
    f"VALUES (new.person_id, new.names, new.phonetic, new.address, new.ids, new.dob); END"
)


def bulk_load(conn: Connection, person_rows: Iterable[Mapping[str, Any]], batch: int = 5000) -> int:
    """Index many ``people`` rows at once (a seed, an import), then ``rebuild``; returns the count.

    On SQLite the per-row trigger that keeps FTS5 in step costs ~50 µs a row, ten times the
    insert itself, so it is dropped for the load (inside the caller's transaction) and the
    index is built once at the end. Inserting ``index_row`` rows yourself and calling
    ``rebuild`` also works, only slower.
    """
    from server.tables import person_search

    sqlite = conn.dialect.name == "sqlite"
    if sqlite:
        conn.exec_driver_sql("DROP TRIGGER IF EXISTS person_search_ai")
    count = 0
    chunk: list[dict[str, Any]] = []
    for person in person_rows:
        chunk.append(index_row(person))
        if len(chunk) >= batch:
            conn.execute(person_search.insert(), chunk)
            count += len(chunk)
            chunk = []
    if chunk:
        conn.execute(person_search.insert(), chunk)
        count += len(chunk)
    if sqlite:
        conn.exec_driver_sql(_INSERT_TRIGGER)
    rebuild(conn)
    return count


def rebuild(conn: Connection) -> None:
    """After a bulk load of ``person_search``: make the index whole and compact (SQLite), or
    refresh the planner's statistics (PostgreSQL)."""
    if conn.dialect.name == "sqlite":
        indexed = conn.exec_driver_sql(f"SELECT count(*) FROM {FTS_TABLE}_docsize").scalar()
        rows = conn.exec_driver_sql("SELECT count(*) FROM person_search").scalar()
        if indexed == rows:
            # the triggers kept it in step; merge the segments the load left behind
            conn.exec_driver_sql(f"INSERT INTO {FTS_TABLE}({FTS_TABLE}) VALUES ('optimize')")
        else:
            conn.exec_driver_sql(f"INSERT INTO {FTS_TABLE}({FTS_TABLE}) VALUES ('rebuild')")
    else:
        # a bulk insert leaves its rows in each GIN index's pending list, which every
        # query would otherwise scan; merge them into the index proper
        for column in ("names", "phonetic", "address", "ids"):
            conn.exec_driver_sql(f"SELECT gin_clean_pending_list('ix_person_search_{column}_trgm'::regclass)")
        conn.exec_driver_sql("ANALYZE person_search")
        conn.exec_driver_sql("ANALYZE cases")


# --- reading the query ------------------------------------------------------------------------------------------

_MONTHS = {"jan": 1, "feb": 2, "mar": 3, "apr": 4, "may": 5, "jun": 6, "jul": 7, "aug": 8, "sep": 9, "oct": 10,
           "nov": 11, "dec": 12}
_MONTH_WORD = (r"(jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?"
               r"|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\.?,?")
_DAY_MONTH_YEAR = re.compile(r"\b(\d{1,2})(?:st|nd|rd|th)?\s+" + _MONTH_WORD + r"\s+(\d{4}|\d{2})\b")
_MONTH_YEAR = re.compile(r"\b" + _MONTH_WORD + r"\s+(\d{4})\b")
_NHS_SPACED = re.compile(r"\b(\d{3})[ -](\d{3})[ -](\d{4})\b")
_POSTCODE_SPACED = re.compile(r"\b([a-z]{1,2}\d[a-z\d]?)\s+(\d[a-z]{2})\b")
_ISO = re.compile(r"^(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})$")
_DMY = re.compile(r"^(\d{1,2})[-/.](\d{1,2})[-/.](\d{4}|\d{2})$")
_MY = re.compile(r"^(\d{1,2})[-/.](\d{4})$")
_YM = re.compile(r"^(\d{4})[-/.](\d{1,2})$")
_YEAR = re.compile(r"^(19|20)\d\d$")
_POSTCODE = re.compile(r"^([a-z]{1,2}\d[a-z\d]?)(\d[a-z]{2})$")
_CASE_ID = re.compile(r"^c?(\d{1,9})$")


def _year(text_year: str) -> int:
    year = int(text_year)
    if len(text_year) == 2:
        this = date.today().year
        year += 2000 if year <= this % 100 else 1900
    return year


def _full_date(year: int, month: int, day: int) -> str | None:
    try:
        return date(year, month, day).isoformat()
    except ValueError:
        return None


def _dmy(day: str, month: str, year: str) -> str | None:
    y = _year(year)
    # UK order first; 03/25/2014 can only be month/day
    return _full_date(y, int(month), int(day)) or _full_date(y, int(day), int(month))


def _month(year: int, month: int) -> str | None:
    if 1 <= month <= 12 and 1900 <= year <= 2099:
        return f"{year:04d}-{month:02d}"
    return None


class _Token:
    """One token of the query and the ways it may be read."""

    __slots__ = ("text", "dob", "dob_kind")

    def __init__(self, text_: str = "", dob: str | None = None, dob_kind: str = "") -> None:
        self.text = text_
        self.dob = dob            # "YYYY-MM-DD", "YYYY-MM" or "YYYY"
        self.dob_kind = dob_kind  # full | month | year | postcode (then text is "nn13 6ab")


def parse(q: str) -> list[_Token]:
    """The query's tokens; public for tests and the bench."""
    q = _fold_any(q[:MAX_QUERY_CHARS])
    found: list[_Token] = []

    def day_month_year(m: re.Match[str]) -> str:
        full = _full_date(_year(m.group(3)), _MONTHS[m.group(2)[:3]], int(m.group(1)))
        if full is None:
            return m.group(0)
        found.append(_Token(dob=full, dob_kind="full"))
        return " "

    def month_year(m: re.Match[str]) -> str:
        month = _month(int(m.group(2)), _MONTHS[m.group(1)[:3]])
        if month is None:
            return m.group(0)
        found.append(_Token(dob=month, dob_kind="month"))
        return " "

    q = _DAY_MONTH_YEAR.sub(day_month_year, q)
    q = _MONTH_YEAR.sub(month_year, q)
    q = _NHS_SPACED.sub(lambda m: m.group(1) + m.group(2) + m.group(3), q)
    q = _POSTCODE_SPACED.sub(lambda m: m.group(1) + m.group(2), q)  # read as one below

    for word in q.split():
        dob = kind = None
        if m := _ISO.match(word):
            dob, kind = _full_date(int(m.group(1)), int(m.group(2)), int(m.group(3))), "full"
        elif m := _DMY.match(word):
            dob, kind = _dmy(m.group(1), m.group(2), m.group(3)), "full"
        elif m := _MY.match(word):
            dob, kind = _month(int(m.group(2)), int(m.group(1))), "month"
        elif m := _YM.match(word):
            dob, kind = _month(int(m.group(1)), int(m.group(2))), "month"
        if dob:
            found.append(_Token(dob=dob, dob_kind=kind or ""))
            continue
        for part in _NON_TOKEN.split(word):
            if not part:
                continue
            if m := _POSTCODE.match(part):
                found.append(_Token(f"{m.group(1)} {m.group(2)}", dob_kind="postcode"))
            else:
                year = bool(_YEAR.match(part))
                found.append(_Token(part, dob=part if year else None, dob_kind="year" if year else ""))
    # the same token twice narrows nothing
    unique: dict[tuple[str, str | None], _Token] = {}
    for token in found:
        unique.setdefault((token.text, token.dob), token)
    return list(unique.values())[:MAX_TOKENS]


# --- building the SQL -------------------------------------------------------------------------------------------


class _Reading:
    """One way a token may match: a SQL condition on ``person_search s``, its score, and the
    FTS5 expression that finds the same rows (``exact``) or a superset of them."""

    __slots__ = ("cond", "level", "fts", "exact", "implied")

    def __init__(self, cond: str, level: int, fts: str | None, exact: bool = True, implied: bool = False) -> None:
        self.cond, self.level, self.fts, self.exact = cond, level, fts, exact
        self.implied = implied  # a looser reading of the same token finds every row this one does


class _Query:
    """The readings of every token, with their bound parameters, and the SQL built from them.

    Ranking is by (score desc, no open case, person_id). Few candidates (≤ ``SMALL``) are all
    scored in one statement. Many (a surname, a year, an outward code, one typed letter) are
    read tier by tier: a tier is one score level per token, so every row in it has the same
    score, and it is read in person_id order — people with an open case first — stopping as
    soon as the page is full, so the cost follows the page and not the number of matches.
    """

    def __init__(self, conn: Connection, toks: list[_Token]) -> None:
        self.conn = conn
        self.sqlite = conn.dialect.name == "sqlite"
        self.params: dict[str, Any] = {}
        self.readings: list[list[_Reading]] = []
        self.case_lookups: list[str] = []
        # SQLite: every candidate's person_id, once count() has read them all (fewer than its cap)
        self.candidates: list[int] | None = None
        for token in toks:
            self.readings.append(self._readings(token))
        self.scores = ["CASE " + " ".join(f"WHEN {r.cond} THEN {r.level}" for r in rs) + " ELSE 0 END"
                       for rs in self.readings]

    def bind(self, value: Any) -> str:
        name = f"p{len(self.params)}"
        self.params[name] = value
        return ":" + name

    def has(self, column: str, needle: str) -> str:
        """SQL: ``needle`` occurs in the column (a LIKE on PostgreSQL, for the trigram index)."""
        if self.sqlite:
            return f"instr(s.{column}, {self.bind(needle)}) > 0"
        return f"s.{column} LIKE {self.bind('%' + needle + '%')}"

    def own_name(self, token: str) -> str:
        """SQL: the token is one of the person's own names, before the ``|`` that starts the aliases."""
        if self.sqlite:
            return f"instr(s.names, {self.bind(f' {token} ')}) BETWEEN 1 AND instr(s.names, '|')"
        return f"s.names LIKE {self.bind(f'% {token} %|%')}"

    # readings, best first

    def _readings(self, token: _Token) -> list[_Reading]:
        out: list[_Reading] = []
        if token.dob_kind == "full":
            assert token.dob is not None
            out.append(_Reading(f"s.dob = {self.bind(token.dob)}", S_DOB,
                                f'dob : "{token.dob.replace("-", " ")}"'))
            return out
        if token.dob_kind == "month":
            assert token.dob is not None
            out.append(_Reading(f"s.dob LIKE {self.bind(token.dob + '-%')}", S_DOB_MONTH,
                                f'dob : ^"{token.dob.replace("-", " ")}"'))
            return out

        if token.dob_kind == "postcode":
            out.append(_Reading(self.has("address", f" {token.text} "), S_POSTCODE,
                                f'address : "{token.text}"'))
            return out

        t = token.text
        has_digit = not t.isalpha()
        is_number = t.isdigit()
        exact = f" {t} "
        prefix = f" {t}"
        if has_digit:
            out.append(_Reading(self.has("ids", exact), S_ID, f'ids : "{t}"'))
            if m := _CASE_ID.match(t):
                lookup = f"SELECT c.person_id FROM cases c WHERE c.id = {self.bind(int(m.group(1)))}"
                self.case_lookups.append(lookup)
                # never NULL, so that NOT (...) reads right; 0 is nobody's id
                out.append(_Reading(f"s.person_id = COALESCE(({lookup}), 0)", S_ID, None))
        if token.dob:  # a year
            out.append(_Reading(f"s.dob LIKE {self.bind(token.dob + '-%')}", S_DOB_YEAR, f'dob : "{t}"'))
        metaphone = ""
        if not is_number:
            out.append(_Reading(self.own_name(t), S_NAME, f'names : "{t}"', exact=False, implied=True))
            out.append(_Reading(self.has("names", exact), S_ALIAS, f'names : "{t}"', implied=True))
            for group in VARIANTS.get(t, ()):
                code = "g" + group
                out.append(_Reading(self.has("phonetic", f" {code} "), S_VARIANT,
                                    f'phonetic : "{code}"'))
            metaphone = _metaphone(t) if len(t) >= 3 else ""
            if len(metaphone) >= 2:
                out.append(_Reading(self.has("phonetic", f" {metaphone} "), S_PHONETIC,
                                    f'phonetic : "{metaphone}"'))
        out.append(_Reading(self.has("address", exact), S_ADDRESS, f'address : "{t}"', implied=True))
        # loose readings: what is still being typed
        if not is_number:
            out.append(_Reading(self.has("names", prefix), S_NAME_PREFIX, f'names : "{t}" *'))
        out.append(_Reading(self.has("address", prefix), S_ADDRESS_PREFIX, f'address : "{t}" *'))
        if len(metaphone) >= 3:
            out.append(_Reading(self.has("phonetic", f" {metaphone}"), S_PHONETIC_PREFIX,
                                f'phonetic : "{metaphone}" *'))
        return out

    # the set of every candidate

    def _any_fts(self) -> str:
        parts = []
        for rs in self.readings:
            alts = list(dict.fromkeys(r.fts for r in rs if r.fts))
            # 'names : "smith"' adds nothing to 'names : "smith" *'
            alts = [a for a in alts if a + " *" not in alts]
            parts.append("(" + " OR ".join(alts) + ")")
        return " AND ".join(parts)

    def _any_sql(self) -> str:
        # readings implied by a looser one are left out, so the planner ORs fewer index scans
        parts = []
        for rs in self.readings:
            parts.append("(" + " OR ".join(r.cond for r in rs if not r.implied) + ")")
        return " AND ".join(parts)

    def count(self, cap: int) -> int:
        """How many candidates there are, up to ``cap``."""
        if self.sqlite:
            # the candidates themselves rather than count(*): when they are few, score_all scores this list
            # instead of running the same MATCH a second time (about a sixth of what a typical search costs)
            sql = f"SELECT rowid FROM {FTS_TABLE} WHERE {FTS_TABLE} MATCH :fts_all LIMIT {cap}"
            found = list(self.conn.execute(text(sql), {"fts_all": self._any_fts()}).scalars().all())
            self.candidates = found if len(found) < cap else None
            return len(found)
        # PostgreSQL: the planner's estimate. Counting for real walks the table in whatever order
        # it likes, and the choice is only about speed: both ways give the same answer.
        sql = f"EXPLAIN (FORMAT JSON) SELECT 1 FROM person_search s WHERE {self._any_sql()}"
        plan = self.conn.execute(text(sql), self.params).scalar()
        if isinstance(plan, str):
            plan = json.loads(plan)
        return min(cap, int(plan[0]["Plan"]["Plan Rows"]))

    # scoring every candidate

    def score_all(self, limit: int, only_lookups: bool = False) -> list[tuple[int, float, int]]:
        """[(person_id, score, closed)] best first, scoring every candidate."""
        params = dict(self.params)
        if only_lookups:
            if not self.case_lookups:
                return []
            where = f"s.person_id IN ({' UNION '.join(self.case_lookups)})"
        elif self.sqlite:
            if self.candidates is not None:
                # one bound parameter however many there are (SQLite's JSON functions are built in since 3.38)
                params["candidates"] = json.dumps(self.candidates)
                found = "SELECT value FROM json_each(:candidates)"
            else:
                params["fts_all"] = self._any_fts()
                found = f"SELECT rowid FROM {FTS_TABLE} WHERE {FTS_TABLE} MATCH :fts_all"
            where = f"s.person_id IN ({' UNION '.join([found, *self.case_lookups])})"
        else:
            where = self._any_sql()
        n = len(self.scores)
        columns = ", ".join(f"{e} AS t{i}" for i, e in enumerate(self.scores))
        total = " + ".join(f"x.t{i}" for i in range(n))
        matched = " AND ".join(f"x.t{i} > 0" for i in range(n))
        sql = (f"SELECT x.person_id, ({total}) AS score"
               f" FROM (SELECT s.person_id, {columns} FROM person_search s WHERE {where}) x WHERE {matched}")
        # .all() takes the rows in one fetchall; iterating the result fetches them one call at a time
        scored = [(r[0], float(r[1])) for r in self.conn.execute(text(sql), params).all()]
        return _page(self.conn, scored, limit)

    # reading tier by tier

    def _levels(self, rs: list[_Reading]) -> list[tuple[int, str, str]]:
        """Per score level of one token, best first: (level, FTS5 expression, SQL condition).

        Both find exactly the rows whose best reading of the token is at that level.
        """
        out = []
        levels = sorted({r.level for r in rs if r.fts}, reverse=True)
        for level in levels:
            here = [r for r in rs if r.level == level and r.fts]
            alts = list(dict.fromkeys(r.fts for r in here))
            # FTS5 (which the CASE check backs up): leave out the better readings it tells apart exactly
            better = [r.fts for r in rs if r.level > level and r.fts and r.exact and r.fts not in alts]
            expr = "(" + " OR ".join(alts) + ")"
            if better:
                expr = f"({expr} NOT ({' OR '.join(dict.fromkeys(better))}))"
            # SQL: NOT the better readings rather than CASE = level, which PostgreSQL's planner
            # cannot estimate; a good estimate lets it walk person_id order and stop early
            cond = "(" + " OR ".join(r.cond for r in here) + ")"
            worse_than = [r.cond for r in rs if r.level > level]
            if worse_than:
                cond = f"({cond} AND NOT ({' OR '.join(worse_than)}))"
            out.append((level, expr, cond))
        return out

    def _stream(self, combo: tuple[tuple[int, str, str], ...], open_: bool, need: int) -> str:
        """SQL: the first ``need`` people of one tier, with or without an open case, by person_id."""
        has_open = "EXISTS (SELECT 1 FROM cases c WHERE c.person_id = s.person_id AND c.status = 'open')"
        check = has_open if open_ else "NOT " + has_open
        if self.sqlite:
            check += "".join(f" AND {score} = {level}" for score, (level, _, _) in zip(self.scores, combo))
            match = self.bind(" AND ".join(expr for _, expr, _ in combo))
            return (f"SELECT s.person_id FROM {FTS_TABLE} f JOIN person_search s ON s.person_id = f.rowid"
                    f" WHERE f.{FTS_TABLE} MATCH {match} AND {check} ORDER BY f.rowid LIMIT {need}")
        where = " AND ".join(cond for _, _, cond in combo)
        return f"SELECT s.person_id FROM person_search s WHERE {where} AND {check} ORDER BY s.person_id LIMIT {need}"

    def by_tiers(self, limit: int) -> list[tuple[int, float, int]]:
        """[(person_id, score, closed)] best first, reading the tiers in order.

        The tiers go to the database a batch at a time as one UNION ALL under a LIMIT:
        both SQLite and PostgreSQL run its parts in order and stop once the page is full,
        so an empty tier costs an index probe and no round trip.
        """
        per_token = [self._levels(rs) for rs in self.readings]
        if any(not levels for levels in per_token):
            return []
        out: list[tuple[int, float, int]] = []
        groups = list(_combos_by_total(per_token))
        start, batch = 0, 2
        while start < len(groups):
            need = limit - len(out)
            parts = []
            for g, (total, combos) in enumerate(groups[start:start + batch]):
                for open_ in (True, False):
                    streams = " UNION ALL ".join(
                        f"SELECT person_id FROM ({self._stream(combo, open_, need)}) a{k}"
                        for k, combo in enumerate(combos)
                    )
                    if len(combos) > 1:  # equal scores: merge the tiers by person_id
                        streams = f"SELECT person_id FROM ({streams} ORDER BY person_id LIMIT {need}) m"
                    parts.append(f"SELECT person_id, {total} AS score, {0 if open_ else 1} AS closed"
                                 f" FROM ({streams}) g{g}{int(open_)}")
            sql = " UNION ALL ".join(parts) + f" LIMIT {need}"
            out += [(r[0], float(r[1]), r[2]) for r in self.conn.execute(text(sql), self.params).all()]
            if len(out) >= limit:
                break
            start, batch = start + batch, min(batch * 2, GROUPS_PER_STATEMENT)
        return out[:limit]


# The statements every search runs are built once: a constant statement keeps its cache key, where a fresh
# select() is built, coerced and hashed again on each call
_OPEN_PEOPLE = (select(cases.c.person_id)
                .where(cases.c.status == "open", cases.c.person_id.in_(bindparam("person_ids", expanding=True)))
                .distinct())
_HIT_ROWS = (
    select(people.c.id, people.c.given_name, people.c.family_name, people.c.aliases, people.c.dob,
           people.c.address, people.c.postcode, people.c.la_child_id, cases.c.id.label("case_id"),
           cases.c.status, cases.c.category, cases.c.allocated_worker, cases.c.team, cases.c.opened_at,
           cases.c.restricted, cases.c.restricted_contact)
    .select_from(people.outerjoin(cases, cases.c.person_id == people.c.id))
    .where(people.c.id.in_(bindparam("person_ids", expanding=True)))
)
_MEMBER_OF = select(case_access.c.case_id).where(case_access.c.user_id == bindparam("user_id"),
                                                 case_access.c.case_id.in_(bindparam("case_ids", expanding=True)))


def _open_people(conn: Connection, person_ids: list[int]) -> set[int]:
    if not person_ids:
        return set()
    return set(conn.execute(_OPEN_PEOPLE, {"person_ids": person_ids}).scalars())


def _page(conn: Connection, scored: list[tuple[int, float]], limit: int) -> list[tuple[int, float, int]]:
    """The first ``limit`` of scored people by (score desc, no open case, person_id).

    Only the people who can make the page are asked about their cases: every score group
    above the page's last score whole, and the last group in person_id order, a slice at
    a time, until enough with an open case are found.
    """
    scored.sort(key=lambda r: (-r[1], r[0]))
    out: list[tuple[int, float, int]] = []
    i = 0
    while i < len(scored) and len(out) < limit:
        score = scored[i][1]
        j = i
        while j < len(scored) and scored[j][1] == score:
            j += 1
        group = [pid for pid, _ in scored[i:j]]
        need = limit - len(out)
        if len(group) <= need:
            opened = _open_people(conn, group)
            out += [(pid, score, 0) for pid in group if pid in opened]
            out += [(pid, score, 1) for pid in group if pid not in opened]
        else:
            found: list[int] = []
            checked = 0
            step = max(2 * need, 50)
            while len(found) < need and checked < len(group):
                chunk = group[checked:checked + step]
                opened = _open_people(conn, chunk)
                found += [pid for pid in chunk if pid in opened]
                checked += len(chunk)
                step *= 4
            found = found[:need]
            out += [(pid, score, 0) for pid in found]
            if len(found) < need:
                taken = set(found)
                out += [(pid, score, 1) for pid in group if pid not in taken][: need - len(found)]
        i = j
    return out


def _combos_by_total(per_token: list[list[tuple[int, str, str]]]) -> Iterator[tuple[int, list[Any]]]:
    """One level per token, grouped by their summed score, best total first."""
    from itertools import product

    combos = sorted(product(*per_token), key=lambda c: -sum(level for level, _, _ in c))
    group: list[Any] = []
    total = None
    for combo in combos[:MAX_COMBOS]:
        t = sum(level for level, _, _ in combo)
        if group and t != total:
            yield total, group  # type: ignore[misc]
            group = []
        total = t
        group.append(combo)
    if group:
        yield total, group  # type: ignore[misc]


def _ranked(conn: Connection, toks: list[_Token], limit: int) -> list[tuple[int, float]]:
    """[(person_id, score)] best first."""
    query = _Query(conn, toks)
    small = (SMALL if len(toks) == 1 else SMALL_MULTI).get(conn.dialect.name, 400)
    if query.count(small + 1) <= small:
        rows = query.score_all(limit)
    else:
        rows = query.by_tiers(limit)
        if query.case_lookups:
            seen = {pid for pid, _, _ in rows}
            rows += [r for r in query.score_all(limit, only_lookups=True) if r[0] not in seen]
            rows.sort(key=lambda r: (-r[1], r[2], r[0]))
    return [(pid, score) for pid, score, _ in rows[:limit]]


# --- the search -------------------------------------------------------------------------------------------------


def search(conn: Connection, user: Principal, q: str, limit: int = 20) -> list[dict[str, Any]]:
    """Ranked hits shaped like ``server.schemas.SearchHit`` (plain dicts), best first.

    - ``user`` must read cases: the route refuses admins before calling this.
    - One hit per person, with their most relevant case (open before closed, then the
      newest opened). A person with a restricted case whose access list does not hold
      ``user`` is only a stub: ``{person_id: None, case_id, restricted: True, message, score}``.
    - ``q`` is cut to ``MAX_QUERY_CHARS`` and ``MAX_TOKENS`` tokens; ``limit`` is held to
      1..``MAX_LIMIT``. An empty or punctuation-only query returns ``[]`` without touching
      the database. Reads only: auditing the search is the route's business.
    """
    limit = max(1, min(int(limit), MAX_LIMIT))
    toks = parse(q or "")
    if not toks:
        return []
    ranked = _ranked(conn, toks, limit)
    if not ranked:
        return []
    return _hits(conn, user, ranked)


def _best(case_rows: list[Mapping[str, Any]]) -> Mapping[str, Any]:
    # open before closed, then the newest opened
    return max(case_rows, key=lambda c: (c["status"] == "open", c["opened_at"], c["id"]))


def _hits(conn: Connection, user: Principal, ranked: list[tuple[int, float]]) -> list[dict[str, Any]]:
    ids = [person_id for person_id, _ in ranked]
    person_rows: dict[int, Mapping[str, Any]] = {}
    by_person: dict[int, list[Mapping[str, Any]]] = {}
    for row in conn.execute(_HIT_ROWS, {"person_ids": ids}).mappings():
        person_rows[row["id"]] = row
        if row["case_id"] is not None:
            by_person.setdefault(row["id"], []).append(
                {"id": row["case_id"], "status": row["status"], "category": row["category"],
                 "allocated_worker": row["allocated_worker"], "team": row["team"], "opened_at": row["opened_at"],
                 "restricted": row["restricted"], "restricted_contact": row["restricted_contact"]})

    restricted_ids = [c["id"] for rows in by_person.values() for c in rows if c["restricted"]]
    member_of: set[int] = set()
    if restricted_ids:
        member_of = set(conn.execute(_MEMBER_OF, {"user_id": user.id, "case_ids": restricted_ids}).scalars())

    chosen: dict[int, Mapping[str, Any] | None] = {}
    sealed: dict[int, Mapping[str, Any]] = {}
    for person_id in ids:
        rows = by_person.get(person_id, [])
        # A person with any sealed case this user may not read is only ever a stub: the
        # name, date of birth and address are the person's, shared by all their cases.
        locked = [c for c in rows if c["restricted"] and c["id"] not in member_of]
        if locked:
            sealed[person_id] = _best(locked)
        chosen[person_id] = _best(rows) if rows else None

    flags = flags_by_case(conn, [c["id"] for p, c in chosen.items() if c is not None and p not in sealed])

    hits: list[dict[str, Any]] = []
    for person_id, score in ranked:
        if person_id in sealed:
            case_row = sealed[person_id]
            hits.append({"person_id": None, "case_id": case_row["id"], "restricted": True,
                         "message": restricted_message(case_row["restricted_contact"]), "score": score})
            continue
        person = person_rows.get(person_id)
        if person is None:  # the index is ahead of a deleted person
            continue
        case_row = chosen[person_id]
        hits.append({
            "person_id": person_id,
            "case_id": case_row["id"] if case_row else None,
            "restricted": bool(case_row["restricted"]) if case_row else False,
            "given_name": person["given_name"],
            "family_name": person["family_name"],
            "aliases": json.loads(person["aliases"] or "[]"),
            "dob": person["dob"],
            "address": person["address"],
            "postcode": person["postcode"],
            "la_child_id": person["la_child_id"],
            "category": case_row["category"] if case_row else None,
            "status": case_row["status"] if case_row else None,
            "flags": flags.get(case_row["id"], []) if case_row else [],
            "allocated_worker": case_row["allocated_worker"] if case_row else None,
            "team": case_row["team"] if case_row else None,
            "message": None,
            "score": score,
        })
    return hits
