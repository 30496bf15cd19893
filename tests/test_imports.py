"""The import contracts in DESIGN.md: tui → screens → client, nothing heavy before it is needed.

Two kinds of check:

* at run time, in a fresh interpreter (a subprocess), which modules ``casework --help``
  and ``import client.store`` actually load: never Textual, and never the server; and
  what the way to the first frame of ``casework`` loads: nothing that only the network,
  an export or the server needs (the cold start is timed by bench/tui.py);
* statically, over the source with ``ast`` (every import statement, including the lazy
  ones inside functions): ``client`` and ``screens`` never import ``server``, ``client``
  never imports Textual, and the layers only ever import downwards.
"""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("tui", "screens", "client", "server")

# which of our packages each layer may import (itself included)
ALLOWED = {
    "tui": {"tui", "screens", "client", "server"},  # server only lazily, in the CLI's server and demo commands
    "screens": {"screens", "client"},
    "client": {"client"},
    "server": {"server"},
}
FORBIDDEN_THIRD_PARTY = {
    "client": {"textual"},
}


def loaded_modules(code: str, env: dict[str, str] | None = None) -> dict[str, object]:
    """Run ``code`` in a fresh interpreter from the project root; it ends by printing sys.modules' names."""
    # (a None entry is an import blocked on purpose, not a module loaded)
    probe = code + ("\nimport json, sys\n"
                    "print('\\n' + json.dumps(sorted(n for n, m in sys.modules.items() if m is not None)))\n")
    done = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, timeout=60,
                          env=None if env is None else {**os.environ, **env})
    assert done.returncode == 0, done.stderr
    *_, last = done.stdout.strip().splitlines()
    return {"modules": json.loads(last), "stdout": done.stdout}


def tops(modules: list[str], *names: str) -> list[str]:
    return sorted(m for m in modules if m.split(".")[0] in names)


def test_casework_help_imports_no_textual_and_no_server() -> None:
    result = loaded_modules(
        "import sys\n"
        "sys.argv = ['casework', '--help']\n"
        "from tui.cli import main\n"
        "try:\n"
        "    main()\n"
        "except SystemExit as exit:\n"
        "    assert exit.code in (0, None), exit.code\n"
    )
    assert "usage: casework" in str(result["stdout"])
    modules = result["modules"]
    assert isinstance(modules, list)
    assert tops(modules, "textual") == [], "`casework --help` imported Textual"
    assert tops(modules, "server", "fastapi", "sqlalchemy", "uvicorn") == [], \
        "`casework --help` imported the server or its stack"
    assert tops(modules, "screens", "client", "httpx") == [], "`casework --help` imported the app's layers"


def test_the_console_script_help_works() -> None:
    script = Path(sys.executable).with_name("casework")
    if not script.exists():
        pytest.fail(f"the console script {script} is missing: run `pip install -e .` in the venv")
    done = subprocess.run([str(script), "--help"], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert "usage: casework" in done.stdout


def test_importing_the_store_does_not_import_textual() -> None:
    modules = loaded_modules("import client.store")["modules"]
    assert isinstance(modules, list)
    assert "client.store" in modules
    assert tops(modules, "textual") == [], "client.store pulled in Textual"
    assert tops(modules, "server", "fastapi", "sqlalchemy") == [], "client.store pulled in the server"
    assert tops(modules, "screens", "tui") == []


# what `casework` must not load before it has drawn the caseload from the store: the network stack (the sync
# loads it when it first sends a request), the PDF export, and the server's stack
NOT_BEFORE_THE_FIRST_FRAME = ("httpx", "httpcore", "h11", "anyio", "certifi", "fpdf", "PIL", "fontTools",
                              "server", "fastapi", "starlette", "sqlalchemy", "alembic", "uvicorn")


def test_the_api_client_loads_httpx_only_when_it_sends() -> None:
    """A CaseAPI is made at start-up; httpx, its connection pool and a TLS context (~80 ms) wait for a request."""
    modules = loaded_modules("from client.api import CaseAPI, Timeouts\n"
                             "api = CaseAPI('https://casework.example.test', timeouts=Timeouts(connect=1))\n"
                             "import asyncio\n"
                             "asyncio.run(api.aclose())  # closing one that never sent must work\n")["modules"]
    assert isinstance(modules, list)
    assert tops(modules, "httpx", "httpcore", "certifi") == [], "making or closing a CaseAPI loaded httpx"


def test_the_way_to_the_first_frame_loads_nothing_it_does_not_draw_with(tmp_path: Path) -> None:
    """Plain `casework` with a saved sign-in, up to ``App.run``: config, store, API, sync engine, keymap, App."""
    folders = {name: str(tmp_path / name.lower()) for name in
               ("XDG_CACHE_HOME", "XDG_CONFIG_HOME", "XDG_STATE_HOME", "XDG_DATA_HOME")}
    result = loaded_modules(
        "from tui import config\n"
        "config.save(config.Config(server_url='http://127.0.0.1:9', username='worker'))\n"
        "from tui.app import CaseworkApp\n"
        "CaseworkApp.run = lambda self, *args, **kwargs: print('app built')  # no terminal here\n"
        "from tui.cli import main\n"
        "assert main([]) == 0\n", env=folders)
    assert "app built" in str(result["stdout"])
    modules = result["modules"]
    assert isinstance(modules, list)
    assert "tui.app" in modules and "client.sync" in modules
    assert tops(modules, *NOT_BEFORE_THE_FIRST_FRAME) == [], "the start-up loaded what only comes later"
    # nothing to parse and no password to ask for (tui/cli.py, tui/launch.py)
    assert tops(modules, "argparse", "getpass") == []
    # the screens a key brings up, and the export behind one of them (tui/app.py: ON_DEMAND_SCREENS)
    from tui.app import ON_DEMAND_SCREENS

    assert sorted(set(modules) & {*ON_DEMAND_SCREENS, "client.export"}) == []


def test_plain_casework_needs_no_parser() -> None:
    """`casework` with no arguments skips building the parser (tui/cli.py): it must mean what parsing gives."""
    from tui.cli import build_parser

    assert vars(build_parser().parse_args([])) == {"command": None}


def test_the_whole_client_package_imports_without_textual() -> None:
    names = sorted(p.stem for p in (ROOT / "client").glob("*.py") if p.stem != "__init__")
    modules = loaded_modules("\n".join(f"import client.{name}" for name in names))["modules"]
    assert isinstance(modules, list)
    assert tops(modules, "textual", "server", "screens", "tui") == []


# --- static checks ---------------------------------------------------------------------------------------------

def _imports(path: Path, package: str, root: Path = ROOT) -> list[tuple[int, str, bool]]:
    """(line, absolute module name, at module level?) for every import in the file."""
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    module_parts = [package, *path.relative_to(root / package).with_suffix("").parts]
    if module_parts[-1] == "__init__":
        module_parts.pop()
    top_level = {id(node) for node in tree.body}
    found: list[tuple[int, str, bool]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                found.append((node.lineno, alias.name, id(node) in top_level))
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                # relative: resolve against the importing module's package
                base = module_parts[: len(module_parts) - node.level] if path.name != "__init__.py" \
                    else module_parts[: len(module_parts) - node.level + 1]
                name = ".".join([*base, node.module] if node.module else base)
            else:
                name = node.module or ""
            found.append((node.lineno, name, id(node) in top_level))
    return found


def _sources(package: str) -> list[Path]:
    files = sorted((ROOT / package).rglob("*.py"))
    assert files, f"no Python files under {package}/"
    return files


@pytest.mark.parametrize("package", PACKAGES)
def test_layers_import_only_downwards(package: str) -> None:
    wrong = []
    for path in _sources(package):
        for line, name, _top in _imports(path, package):
            top = name.split(".")[0]
            if top in PACKAGES and top not in ALLOWED[package]:
                wrong.append(f"{path.relative_to(ROOT)}:{line} imports {name}")
    assert not wrong, f"{package} may import only {sorted(ALLOWED[package])}:\n" + "\n".join(wrong)


@pytest.mark.parametrize("package", ["client", "screens"])
def test_client_and_screens_never_import_the_server(package: str) -> None:
    wrong = [f"{path.relative_to(ROOT)}:{line} imports {name}"
             for path in _sources(package) for line, name, _top in _imports(path, package)
             if name.split(".")[0] == "server"]
    assert not wrong, "\n".join(wrong)


def test_client_never_imports_textual() -> None:
    wrong = [f"{path.relative_to(ROOT)}:{line} imports {name}"
             for path in _sources("client") for line, name, _top in _imports(path, "client")
             if name.split(".")[0] in FORBIDDEN_THIRD_PARTY["client"]]
    assert not wrong, "\n".join(wrong)


def test_tui_imports_the_server_only_lazily() -> None:
    """Only the CLI's `server` and `demo` commands start the server, inside the function that runs them."""
    wrong = [f"{path.relative_to(ROOT)}:{line} imports {name} at module level"
             for path in _sources("tui") for line, name, top in _imports(path, "tui")
             if top and name.split(".")[0] == "server"]
    assert not wrong, "\n".join(wrong)


def test_the_static_check_sees_lazy_and_relative_imports(tmp_path: Path) -> None:
    """The checker itself: an import inside a function, and a relative one, are both found."""
    fake = tmp_path / "client" / "mod.py"
    fake.parent.mkdir()
    fake.write_text("def f():\n    import server.db\nfrom . import sibling\nfrom .models import Case\n")
    found = {name: top for _line, name, top in _imports(fake, "client", root=tmp_path)}
    assert found == {"server.db": False, "client": True, "client.models": True}
