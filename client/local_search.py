"""Offline duty search over the directory the store keeps.

A 2 a.m. phone call must be answerable with the network down, so the store
indexes the slim directory the same way the server indexes people, and reads a
query the same way. This mirrors ``server/search.py`` (the client may not import
the server); keep the two in step so a search finds the same child offline as
online.

Each directory row carries normalised search text (see ``index_columns``):

- ``names``    `` given family | alias tokens `` — lower case, ASCII-folded, a space at each end,
  so `` tok `` is an exact token and `` tok`` a prefix; ``|`` parts own name from aliases;
- ``phonetic`` the Metaphone code of every name token, plus ``g<canonical>`` per first-name variant group;
- ``address``  address and postcode tokens, plus the postcode without its space;
- ``ids``      la_child_id, UPN, NHS number (no spaces) and the case id;
- ``dob``      ``YYYY-MM-DD``;
- ``team``     only for a restricted stub: a stub is found by its case id or team and nothing else.

An external-content FTS5 table (``directory_fts``) finds candidates; SQL ``CASE``
expressions then check and score each: every query token must match one reading,
and strict readings (exact ID, full name, DOB, phonetic, address word) always
outrank loose ones (prefixes), which are tried only if the strict passes found too
few. Unlike the server, candidates are capped per pass (``ranked_ids``), so a search
costs the same at 100 or 100,000 people.
"""

from __future__ import annotations

import re
import sqlite3
import unicodedata
from datetime import date
from typing import Any, Callable, Mapping

import jellyfish

FTS_TABLE = "directory_fts"
SEARCH_COLUMNS: tuple[str, ...] = ("names", "phonetic", "address", "ids", "dob", "team")

MAX_QUERY_CHARS = 200
MAX_TOKENS = 8
MAX_LIMIT = 200
# each pass scores at most this many candidates: "m" or "smith" match thousands, and only
# the first screenful matters then (see ranked_ids)
CANDIDATES = 400

S_ID = 1100
S_NAME = 1020
S_DOB = 1020
S_ALIAS = 1018
S_DOB_MONTH = 1015
S_VARIANT = 1014
S_PHONETIC = 1012
S_DOB_YEAR = 1010
S_ADDRESS = 1008
S_TEAM = 1005
S_NAME_PREFIX = 4
S_ADDRESS_PREFIX = 3
S_ID_PREFIX = 3
S_PHONETIC_PREFIX = 2

# First names that are the same name to a caller, which Metaphone does not already join.
_VARIANT_GROUPS: dict[str, tuple[str, ...]] = {
    "mohammed": ("mohammed", "mohammad", "mohamed", "mohamad", "muhammad", "muhammed", "muhamed", "mohammod",
                 "mohd", "mohamud", "mahomed", "mo", "moe", "mohammedali"),
    "john": ("john", "jon", "johnny", "jonny", "johnnie", "jonathan", "jonathon", "johnathan"),
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


def fold(value: str) -> str:
    """Lower case, ASCII only, no apostrophes: "Zoë O'Brien" → "zoe obrien"."""
    value = value.lower()
    if not value.isascii():
        value = _APOSTROPHES.sub("", value)
        value = unicodedata.normalize("NFKD", value).encode("ascii", "ignore").decode("ascii")
    elif "'" in value or "`" in value:
        value = _APOSTROPHES.sub("", value)
    return value


def tokens(value: str | None) -> list[str]:
    if not value:
        return []
    return [t for t in _NON_TOKEN.split(fold(value)) if t]


# Metaphone is the slow part of indexing 100,000 people, and names repeat a lot
_metaphone_cache: dict[str, str] = {}


def _metaphone(token: str) -> str:
    code = _metaphone_cache.get(token)
    if code is None:
        code = jellyfish.metaphone(token).lower() if token.isalpha() else ""
        if len(_metaphone_cache) < 200_000:
            _metaphone_cache[token] = code
    return code


def _spaced(items: list[str]) -> str:
    return " " + " ".join(dict.fromkeys(items)) + " " if items else ""


# --- indexing ----------------------------------------------------------------------------------------------------


def index_columns(entry: Mapping[str, Any]) -> tuple[str, str, str, str, str, str]:
    """(names, phonetic, address, ids, dob, team) for a DirectoryEntry JSON object."""
    case_id = entry.get("case_id")
    case_ids = [str(case_id), f"c{case_id}"] if case_id is not None else []
    if entry.get("person_id") is None:
        # a restricted stub: findable by its case id and team only, nothing about the child
        return "", "", "", _spaced(case_ids), "", _spaced(tokens(entry.get("team")))

    own = tokens(entry.get("given_name")) + tokens(entry.get("family_name"))
    alias_tokens: list[str] = []
    for alias in entry.get("aliases") or ():
        alias_tokens += tokens(alias)
    names = " " + " ".join(dict.fromkeys(own)) + " | " + " ".join(dict.fromkeys(alias_tokens)) + " "

    codes: list[str] = []
    for token in dict.fromkeys(own + alias_tokens):
        if len(token) > 1:
            code = _metaphone(token)
            if code:
                codes.append(code)
        groups = VARIANTS.get(token)
        if groups:
            codes += ["g" + g for g in groups]

    postcode = entry.get("postcode")
    place = tokens(entry.get("address")) + tokens(postcode)
    if postcode:
        compact = "".join(tokens(postcode))
        if compact:
            place.append(compact)

    ids = [str(entry["la_child_id"]).lower()] if entry.get("la_child_id") else []
    if entry.get("upn"):
        ids.append(str(entry["upn"]).lower())
    if entry.get("nhs_number"):
        ids.append("".join(tokens(str(entry["nhs_number"]))))
    ids += case_ids
    return names, _spaced(codes), _spaced(place), _spaced(ids), entry.get("dob") or "", ""


# --- reading the query -------------------------------------------------------------------------------------------

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


class QueryToken:
    """One token of the query and the ways it may be read."""

    __slots__ = ("text", "dob", "dob_kind")

    def __init__(self, text_: str = "", dob: str | None = None, dob_kind: str = "") -> None:
        self.text = text_
        self.dob = dob            # "YYYY-MM-DD", "YYYY-MM" or "YYYY"
        self.dob_kind = dob_kind  # full | month | year

    def __repr__(self) -> str:
        return f"QueryToken({self.text!r}, dob={self.dob!r}, {self.dob_kind!r})"


def parse(q: str) -> list[QueryToken]:
    q = fold(q[:MAX_QUERY_CHARS])
    found: list[QueryToken] = []

    def day_month_year(m: re.Match[str]) -> str:
        full = _full_date(_year(m.group(3)), _MONTHS[m.group(2)[:3]], int(m.group(1)))
        if full is None:
            return m.group(0)
        found.append(QueryToken(dob=full, dob_kind="full"))
        return " "

    def month_year(m: re.Match[str]) -> str:
        month = _month(int(m.group(2)), _MONTHS[m.group(1)[:3]])
        if month is None:
            return m.group(0)
        found.append(QueryToken(dob=month, dob_kind="month"))
        return " "

    q = _DAY_MONTH_YEAR.sub(day_month_year, q)
    q = _MONTH_YEAR.sub(month_year, q)
    q = _NHS_SPACED.sub(lambda m: m.group(1) + m.group(2) + m.group(3), q)
    q = _POSTCODE_SPACED.sub(lambda m: m.group(1) + m.group(2), q)

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
            found.append(QueryToken(dob=dob, dob_kind=kind or ""))
            continue
        for part in _NON_TOKEN.split(word):
            if part:
                found.append(QueryToken(part, dob=part if _YEAR.match(part) else None, dob_kind="year"))
    unique: dict[tuple[str, str | None], QueryToken] = {}
    for token in found:
        unique.setdefault((token.text, token.dob), token)
    return list(unique.values())[:MAX_TOKENS]


# --- building the SQL --------------------------------------------------------------------------------------------


class _Pass:
    """The SQL of one pass, token by token, with its bound parameters."""

    def __init__(self, loose: bool) -> None:
        self.loose = loose
        self.params: list[Any] = []
        self.scores: list[str] = []        # per token: CASE giving its best reading's score, or 0
        self.fts_exact: list[str] = []     # per token: FTS5 OR of its exact readings (ids, names, DOB, variants)
        self.fts: list[str] = []           # per token: FTS5 OR of every reading of this pass
        self.case_lookups: list[str] = []  # case-id readings, answered by the directory's case_id index

    def bind(self, value: Any) -> str:
        self.params.append(value)
        return "?"

    def add(self, token: QueryToken) -> None:
        branches: list[str] = []
        exact: list[str] = []
        other: list[str] = []

        def reading(cond: str, score: int) -> None:
            branches.append(f"WHEN {cond} THEN {score}")

        if token.dob_kind in ("full", "month"):
            assert token.dob is not None
            phrase = token.dob.replace("-", " ")
            if token.dob_kind == "full":
                reading(f"d.dob = {self.bind(token.dob)}", S_DOB)
                exact.append(f'dob : "{phrase}"')
            else:
                reading(f"d.dob LIKE {self.bind(token.dob + '-%')}", S_DOB_MONTH)
                exact.append(f'dob : ^"{phrase}"')
        else:
            self._word(token, reading, exact, other)
        self.scores.append("CASE " + " ".join(branches) + " ELSE 0 END")
        self.fts_exact.append("(" + " OR ".join(exact) + ")")
        self.fts.append("(" + " OR ".join(exact + other) + ")")

    def _word(self, token: QueryToken, reading: Callable[[str, int], None], exact: list[str],
              other: list[str]) -> None:
        t = token.text
        loose = self.loose
        has_digit = not t.isalpha()
        is_number = t.isdigit()
        star = " *" if loose else ""
        spaced = f"% {t} %"

        if has_digit:
            reading(f"d.ids LIKE {self.bind(spaced)}", S_ID)
            exact.append(f'ids : "{t}"')
            if m := _CASE_ID.match(t):
                case_id = int(m.group(1))
                self.case_lookups.append(f"SELECT id FROM directory WHERE case_id = {case_id}")
                reading(f"d.case_id = {case_id}", S_ID)
        if token.dob:  # a year
            reading(f"d.dob LIKE {self.bind(token.dob + '-%')}", S_DOB_YEAR)
            exact.append(f'dob : "{t}"')
        metaphone = ""
        if not is_number:
            reading(f"d.names LIKE {self.bind(f'% {t} %|%')}", S_NAME)
            reading(f"d.names LIKE {self.bind(spaced)}", S_ALIAS)
            exact.append(f'names : "{t}"')
            variants = ["g" + g for g in VARIANTS.get(t, ())]
            for code in variants:
                reading(f"d.phonetic LIKE {self.bind(f'% {code} %')}", S_VARIANT)
            if variants:
                exact.append("phonetic : (" + " OR ".join(f'"{code}"' for code in variants) + ")")
            metaphone = _metaphone(t) if len(t) >= 3 else ""
            if len(metaphone) >= 2:
                reading(f"d.phonetic LIKE {self.bind(f'% {metaphone} %')}", S_PHONETIC)
                other.append(f'phonetic : "{metaphone}"' + (" *" if loose and len(metaphone) >= 3 else ""))
        reading(f"d.address LIKE {self.bind(spaced)}", S_ADDRESS)
        other.append(f'address : "{t}"{star}')
        reading(f"d.team LIKE {self.bind(spaced)}", S_TEAM)
        other.append(f'team : "{t}"')

        if loose:
            prefix = f"% {t}%"
            if not is_number:
                reading(f"d.names LIKE {self.bind(prefix)}", S_NAME_PREFIX)
                other.append(f'names : "{t}" *')
            reading(f"d.address LIKE {self.bind(prefix)}", S_ADDRESS_PREFIX)
            if has_digit:
                reading(f"d.ids LIKE {self.bind(prefix)}", S_ID_PREFIX)
                other.append(f'ids : "{t}" *')
            if len(metaphone) >= 3:
                reading(f"d.phonetic LIKE {self.bind(f'% {metaphone}%')}", S_PHONETIC_PREFIX)

    def statement(self, exact_only: bool, limit: int) -> tuple[str, list[Any]]:
        # FTS5 walks its matches in rowid order and stops at the LIMIT, so a query that matches
        # half the directory costs no more than one that matches a few hundred
        columns = ", ".join(f"{e} AS t{i}" for i, e in enumerate(self.scores))
        found = f"SELECT rowid FROM (SELECT rowid FROM {FTS_TABLE} WHERE {FTS_TABLE} MATCH ? LIMIT {CANDIDATES})"
        sources = " UNION ".join([found, *self.case_lookups])
        n = len(self.scores)
        total = " + ".join(f"x.t{i}" for i in range(n))
        matched = " AND ".join(f"x.t{i} > 0" for i in range(n))
        sql = (
            f"SELECT x.id, ({total}) AS score, x.closed FROM ("
            f"SELECT d.id, d.closed, {columns} FROM directory d WHERE d.id IN ({sources})"
            f") x WHERE {matched} ORDER BY score DESC, x.closed, x.id LIMIT {int(limit)}"
        )
        match = " AND ".join(self.fts_exact if exact_only else self.fts)
        return sql, [*self.params, match]


Hit = tuple[int, float, int]  # (directory row id, score, closed rank)


def _ranked(conn: sqlite3.Connection, toks: list[QueryToken], loose: bool, exact_only: bool, limit: int) -> list[Hit]:
    one = _Pass(loose)
    for token in toks:
        one.add(token)
    sql, params = one.statement(exact_only, limit)
    return [(row[0], float(row[1]), row[2]) for row in conn.execute(sql, params)]


def ranked_ids(conn: sqlite3.Connection, q: str, limit: int) -> list[tuple[int, float]]:
    """[(directory row id, score)] best first.

    Up to three passes, each scoring at most ``CANDIDATES`` people, widest last: exact readings
    (IDs, names and aliases, dates of birth, name variants), then every strict reading (adding
    Metaphone, address words, a stub's team), then prefixes. A later pass runs only when the
    earlier ones found fewer than ``limit``. When more than ``CANDIDATES`` people match a pass
    equally well (every Smith), the lowest ids are the ones ranked: the query needs another word.
    """
    limit = max(1, min(int(limit), MAX_LIMIT))
    toks = parse(q or "")
    if not toks:
        return []
    found: dict[int, Hit] = {}
    for loose, exact_only in ((False, True), (False, False), (True, False)):
        for hit in _ranked(conn, toks, loose, exact_only, limit):
            if hit[0] not in found:
                found[hit[0]] = hit
        if len(found) >= limit:
            break
    ranked = sorted(found.values(), key=lambda h: (-h[1], h[2], h[0]))[:limit]
    return [(row_id, score) for row_id, score, _ in ranked]
