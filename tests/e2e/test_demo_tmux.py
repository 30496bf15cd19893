"""`casework demo` in a real terminal, driven as a person would: keys in with tmux send-keys, the screen
read back with capture-pane.

Each run starts its own tmux server (``tmux -L <unique name>``) and its own demo on a free port, with every
XDG folder inside ``tmp_path``, so runs never touch the real home folder or each other (``pytest -n 2``).
Every wait is a bounded poll of the screen; a wait that runs out fails with the screen as it was.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

pytestmark = pytest.mark.e2e

CASES = 300  # `casework demo --cases 300`, seed 1 (the demo's default)
START_TIMEOUT = 40.0  # seed 300 cases, start the server, sign in, draw
STEP_TIMEOUT = 15.0
CASEWORK = Path(sys.executable).with_name("casework")
SGR = re.compile(r"\x1b\[([0-9;:]*)m")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def port_is_free(port: int) -> bool:
    with socket.socket() as sock:
        try:
            sock.connect(("127.0.0.1", port))
        except OSError:
            return True
        return False


# --- someone to look for: a real child of the seed-1 demo data, and a misspelling of their name -----------------

@dataclass(frozen=True)
class Lookup:
    family: str           # as stored, e.g. "Stephenson"
    typed: str            # misspelt, e.g. "Stefenson"
    people: tuple[str, ...]  # "Given Family" of everyone the demo directory lists with that family name


def _misspellings(name: str) -> Iterator[str]:
    """Spellings a caller might give that sound the same: ph/f/v, a doubled or undoubled letter, a vowel."""
    lower = name.lower()
    for old, new in (("ph", "v"), ("ph", "f"), ("ck", "k"), ("y", "i"), ("tt", "t"), ("ll", "l"), ("ss", "s"),
                     ("rr", "r"), ("nn", "n"), ("mm", "m")):
        if old in lower[1:]:
            at = lower.index(old, 1)
            yield lower[:at] + new + lower[at + len(old):]
    for at in range(2, len(lower) - 1):
        if lower[at] in "aeiou":
            for vowel in "aeiou":
                if vowel != lower[at]:
                    yield lower[:at] + vowel + lower[at + 1:]


@pytest.fixture(scope="module")
def lookup(tmp_path_factory: pytest.TempPathFactory) -> Lookup:
    """Seed a scratch database exactly as the demo will (same cases, seed and day) and pick a family name
    shared by two or more open, unrestricted cases, with a misspelling that sounds the same."""
    import jellyfish
    from sqlalchemy import text

    from server import db
    from server.seed import seed

    path = tmp_path_factory.mktemp("e2e-scratch") / "demo.db"
    engine = db.make_engine(f"sqlite:///{path}")
    db.migrate(engine)
    seed(engine, cases=CASES)  # seed=1, today: what `casework demo --cases 300` does
    with engine.connect() as conn:
        rows = conn.execute(text(
            "SELECT p.given_name, p.family_name, c.status, c.restricted FROM people p"
            " JOIN cases c ON c.person_id = p.id ORDER BY p.id")).all()
    engine.dispose()
    families: dict[str, list[str]] = {}
    restricted: set[str] = set()
    for given, family, status, is_restricted in rows:
        if is_restricted:
            restricted.add(family)
        elif status == "open" and family.isascii() and family.isalpha():
            families.setdefault(family, []).append(f"{given} {family}")
    known = {family.lower() for _g, family, _s, _r in rows}
    for family, people in sorted(families.items(), key=lambda item: (-len(item[1]), item[0])):
        if len(people) < 2 or len(people) > 6 or family in restricted or len(family) < 6:
            continue
        for typed in _misspellings(family):
            if typed not in known and jellyfish.metaphone(typed) == jellyfish.metaphone(family.lower()):
                return Lookup(family, typed, tuple(people))
    pytest.fail("the seed-1 demo data has no family name shared by 2-6 open cases with a same-sounding "
                "misspelling: the seeder changed; pick the lookup again")


# --- the terminal --------------------------------------------------------------------------------------------------

class Terminal:
    """One tmux server of our own, one session, one pane."""

    def __init__(self, tmp_path: Path, width: int, height: int, term: str) -> None:
        self.socket = f"casework-e2e-{uuid.uuid4().hex[:12]}"
        self.width, self.height, self.term = width, height, term
        self.exit_file = tmp_path / "exit-status"
        self.env = {k: v for k, v in os.environ.items()
                    # COLUMNS/LINES (set in pytest-xdist workers) would override the real window size
                    if k not in ("TMUX", "TMUX_PANE", "COLORTERM", "NO_COLOR", "FORCE_COLOR", "TEXTUAL", "COLUMNS",
                                 "LINES")}
        for name in ("XDG_DATA_HOME", "XDG_CACHE_HOME", "XDG_CONFIG_HOME", "XDG_STATE_HOME"):
            folder = tmp_path / name.lower()
            folder.mkdir()
            self.env[name] = str(folder)
        self.env["TERM"] = term

    def tmux(self, *args: str) -> str:
        done = subprocess.run(["tmux", "-L", self.socket, *args], env=self.env, capture_output=True, text=True,
                              timeout=10)
        if done.returncode != 0:
            raise AssertionError(f"tmux {' '.join(args)} failed: {done.stderr.strip()}")
        return done.stdout

    def start(self, command: list[str]) -> None:
        xdg = " ".join(f"{k}={self.env[k]}" for k in sorted(self.env) if k.startswith("XDG_"))
        # the pane outlives the program (sleep) so its last words can be read; the exit status goes to a file
        shell = (f"env TERM={self.term} {xdg} {' '.join(command)}; echo $? > {self.exit_file}; sleep 120")
        self.tmux("-f", "/dev/null", "new-session", "-d", "-s", "e2e", "-x", str(self.width), "-y",
                  str(self.height), shell)

    def screen(self, escapes: bool = False) -> str:
        return self.tmux("capture-pane", "-p", *(["-e"] if escapes else []), "-t", "e2e")

    def keys(self, *keys: str) -> None:
        self.tmux("send-keys", "-t", "e2e", *keys)

    def type(self, text: str) -> None:
        self.tmux("send-keys", "-t", "e2e", "-l", text)

    def wait_for(self, what: str | Callable[[str], bool], timeout: float = STEP_TIMEOUT, why: str = "") -> str:
        check = (lambda screen: what in screen) if isinstance(what, str) else what
        deadline = time.monotonic() + timeout
        screen = ""
        while True:
            screen = self.screen()
            if check(screen):
                return screen
            if time.monotonic() > deadline:
                raise AssertionError(f"waited {timeout:.0f} s for {why or repr(what)}; the screen "
                                     f"({self.width}x{self.height}, TERM={self.term}) shows:\n{screen}")
            time.sleep(0.05)

    def exit_status(self, timeout: float) -> int:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.exit_file.exists() and self.exit_file.read_text().strip():
                return int(self.exit_file.read_text())
            time.sleep(0.05)
        raise AssertionError(f"casework did not exit within {timeout:.0f} s of ctrl+q; the screen shows:\n"
                             f"{self.screen()}")

    def close(self) -> None:
        subprocess.run(["tmux", "-L", self.socket, "kill-server"], env=self.env, capture_output=True, timeout=10)


@pytest.fixture
def terminal_factory(tmp_path: Path) -> Iterator[Callable[[int, int, str], Terminal]]:
    if shutil.which("tmux") is None:
        pytest.fail("tmux is not installed, and these tests drive casework inside it: "
                    "install it (apt-get install tmux) or deselect with -m 'not e2e'")
    if not CASEWORK.exists():
        pytest.fail(f"{CASEWORK} is missing: install the project into this venv (pip install -e .)")
    made: list[Terminal] = []

    def make(width: int, height: int, term: str) -> Terminal:
        made.append(Terminal(tmp_path, width, height, term))
        return made[-1]

    yield make
    for terminal in made:
        terminal.close()


def result_names(screen: str, lookup: Lookup) -> list[str]:
    """The people of the looked-up family in the order the results list shows them."""
    found = []
    for line in screen.splitlines():
        for person in lookup.people:
            if line.startswith(person) and person not in found:
                found.append(person)
    return found


def header_name(person: str) -> str:
    given, family = person.rsplit(" ", 1)
    return f"{given} {family.upper()}"


# 80×24 on a 16-colour terminal and 160×50 on a 256-colour one: both sizes, both palettes
@pytest.mark.parametrize(("width", "height", "term"), [(80, 24, "xterm-16color"), (160, 50, "xterm-256color")],
                         ids=["80x24-16color", "160x50-256color"])
def test_duty_lookup_from_a_misspelt_name(terminal_factory: Callable[[int, int, str], Terminal], lookup: Lookup,
                                          width: int, height: int, term: str) -> None:
    port = free_port()
    terminal = terminal_factory(width, height, term)
    terminal.start([str(CASEWORK), "demo", "--port", str(port), "--cases", str(CASES)])

    # the duty worker starts on search
    terminal.wait_for("Who is the child?", timeout=START_TIMEOUT, why="the duty search screen")

    # a misspelt name finds the family, as the directory arrives from the first sync
    terminal.type(lookup.typed)
    screen = terminal.wait_for(lambda s: len(result_names(s, lookup)) >= 2 and "match" in s,
                               why=f"two or more of {lookup.people} in the results for {lookup.typed!r}")
    assert f"for “{lookup.typed}”" in screen or lookup.typed in screen
    first, second = result_names(screen, lookup)[:2]

    # enter opens the first: the full header and who to call, once the case has been fetched
    terminal.keys("Enter")
    screen = terminal.wait_for(lambda s: header_name(first) in s and "Who to call" in s and "fetching" not in s,
                               why=f"the case header of {first} with who to call")
    assert re.search(r"0(7700 900|1632 960)\d{3}", screen), "no phone number under Who to call"

    # ] is the next case in the list it came from
    terminal.keys("]")
    terminal.wait_for(lambda s: header_name(second) in s and "Who to call" in s and "fetching" not in s,
                      why=f"the next case, {second}")

    # ? shows the keys; escape closes them
    terminal.keys("?")
    terminal.wait_for("casework keys", why="the help screen")
    terminal.keys("Escape")
    terminal.wait_for(lambda s: "casework keys" not in s and header_name(second) in s, why="help closed")

    # 1 is my caseload
    terminal.keys("1")
    terminal.wait_for("My cases ·", why="the caseload")  # not just "My cases": the footer says that too

    # the palette matches the terminal: 16 colours only on xterm-16color, 256 on xterm-256color
    colours = set()
    for params in SGR.findall(terminal.screen(escapes=True)):
        parts = params.replace(":", ";").split(";")
        for at, part in enumerate(parts):
            if part in ("38", "48") and at + 1 < len(parts):
                colours.add(parts[at + 1])  # 5: 256-colour, 2: RGB
    if term == "xterm-16color":
        assert not colours, f"256-colour or RGB escapes on a 16-colour terminal: {colours}"
    else:
        assert "2" not in colours, "RGB escapes on a 256-colour terminal"

    # ctrl+q quits: the program exits cleanly, and the demo server has stopped listening
    terminal.keys("C-q")
    status = terminal.exit_status(timeout=STEP_TIMEOUT)
    assert status == 0, f"casework exited {status}; the screen shows:\n{terminal.screen()}"
    deadline = time.monotonic() + 5
    while not port_is_free(port):
        assert time.monotonic() < deadline, f"the demo server still listens on port {port} after quitting"
        time.sleep(0.05)
