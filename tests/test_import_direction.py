"""Dependency direction (docs/ARCHITECTURE.md), checked one module at a time.

- ``interview_app/services`` (every module, found on disk) and the core it builds on (models,
  contracts, db, settings, sanitize) load neither Reflex nor livekit-agents nor ``agent/``;
- ``agent/`` (every module) and ``interview_app/text_host`` (the in-process runtime of text
  interviews) may load livekit-agents, never Reflex;
- ``interview_app/services/scoring.py`` (pure scoring) loads no database layer (SQLAlchemy,
  SQLModel, ``models``, ``db``), no settings, no HTTP client and no Reflex.

Each module is imported alone, in a process of its own. A fresh interpreter per module cost
≈ 1 s of CPU each here (SQLAlchemy, aiohttp, livekit-agents and building the tables of
``models``), so these processes are forked from one that has imported a *base* — third-party
libraries and the core — and found that it loaded nothing the rule forbids. The base cannot hide
a breach: whatever a module gets from it was checked to be allowed. A failure names the module
(or the base) and the chain of our modules whose imports brought the framework in.
"""

from __future__ import annotations

import json
import pkgutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

#: A rule names a package; it forbids the package and its submodules ("reflex" also Reflex's
#: own ``reflex_*`` packages).
REFLEX, LIVEKIT_AGENTS, AGENT = "reflex", "livekit.agents", "agent"

#: Imported before the fork: third-party libraries and the core (each checked against the rule).
LIBRARIES = ["sqlalchemy", "sqlmodel", "pydantic", "httpx", "aiohttp", "livekit.api", "prometheus_client"]
CORE = [f"interview_app.{m}" for m in ("models", "contracts", "db", "settings", "sanitize")]

# The checking process: import the base, then fork one child per module. For every forbidden
# package the base or a child's module loaded, it prints the chain of our modules that were being
# imported when the package was first asked for.
CHECKER = r"""
import importlib, json, os, sys
modules, forbidden, base = (json.loads(a) for a in sys.argv[1:4])
def banned(name):
    for rule in forbidden:
        if name == rule or name.startswith(rule + ".") or (rule == "reflex" and name.startswith("reflex_")):
            return rule
    return None
def loaded():
    return sorted({banned(m) for m in list(sys.modules) if banned(m)})
chains = {}
class Watch:
    def find_spec(self, name, path=None, target=None):
        rule = banned(name)
        if rule and rule not in chains:
            frame, chain = sys._getframe(1), []
            while frame is not None:
                owner = frame.f_globals.get("__name__", "")
                if owner.split(".")[0] in ("interview_app", "agent") and (not chain or chain[-1] != owner):
                    chain.append(owner)
                frame = frame.f_back
            chains[rule] = " -> ".join([*reversed(chain), name])
        return None
sys.meta_path.insert(0, Watch())
for name in base:
    importlib.import_module(name)
if loaded():
    print(json.dumps({"module": "(base)", "found": {rule: chains.get(rule, "?") for rule in loaded()}, "error": ""}))
    sys.exit(0)
for module in modules:
    sys.stdout.flush()
    pid = os.fork()
    if pid == 0:
        line = {"module": module, "found": {}, "error": ""}
        try:
            importlib.import_module(module)
            line["found"] = {rule: chains.get(rule, "?") for rule in loaded()}
        except BaseException as err:
            line["error"] = f"{type(err).__name__}: {err}"
        print(json.dumps(line), flush=True)
        os._exit(0)
    os.waitpid(pid, 0)
"""


def modules_of(package: str) -> list[str]:
    path = ROOT / package.replace(".", "/")
    return [package] + [f"{package}.{m.name}" for m in pkgutil.iter_modules([str(path)])]


def breaches(modules: list[str], forbidden: list[str], base: list[str]) -> dict[str, dict[str, str]]:
    """``{module: {rule: import chain}}`` for every module (or ``"(base)"``) that loads something it must not."""
    args = [json.dumps(v) for v in (modules, forbidden, base)]
    run = subprocess.run([sys.executable, "-c", CHECKER, *args], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr[-3000:]
    lines = [json.loads(line) for line in run.stdout.splitlines() if line.startswith("{")]
    errors = {line["module"]: line["error"] for line in lines if line["error"]}
    assert not errors, errors
    found = {line["module"]: line["found"] for line in lines if line["found"]}
    if "(base)" not in found:
        assert [line["module"] for line in lines] == modules, run.stderr[-3000:]
    return found


SERVICES = modules_of("interview_app.services")
RUNTIME = modules_of("agent") + modules_of("interview_app.text_host")
PURE = ["interview_app.services.scoring"]
#: What pure scoring must not load: a database, the settings, the network, the UI framework.
IMPURE = ["sqlalchemy", "sqlmodel", "interview_app.models", "interview_app.db", "interview_app.settings", "httpx", REFLEX]


def test_a_breach_is_caught_and_traced() -> None:
    assert "interview_app.services.text_interviews" in SERVICES and len(SERVICES) > 20
    assert {"agent.text_mode", "agent.worker", "interview_app.text_host.host"} <= set(RUNTIME)
    found = breaches(["interview_app.services.results", "interview_app.text_host.host"], [LIVEKIT_AGENTS], LIBRARIES)
    assert list(found) == ["interview_app.text_host.host"]
    assert breaches([], ["sqlmodel"], ["interview_app.models"]) == {"(base)": {"sqlmodel": "interview_app.models -> sqlmodel"}}
    chain = found["interview_app.text_host.host"][LIVEKIT_AGENTS]
    assert chain.startswith("interview_app.text_host -> interview_app.text_host.host -> ") and chain.endswith("livekit.agents"), chain


def test_services_and_the_core_load_neither_reflex_nor_livekit_agents_nor_the_agent() -> None:
    assert breaches(SERVICES, [REFLEX, LIVEKIT_AGENTS, AGENT], LIBRARIES + CORE) == {}


def test_the_agent_and_the_text_host_load_no_reflex() -> None:
    assert breaches(RUNTIME, [REFLEX], [*LIBRARIES, "livekit.agents", "livekit.rtc", *CORE]) == {}


def test_scoring_loads_no_database_settings_network_or_reflex() -> None:
    assert breaches(PURE, IMPURE, ["pydantic", "interview_app.contracts"]) == {}
    # A module that does load them is caught by the same rules.
    found = breaches(["interview_app.db"], IMPURE, ["pydantic", "interview_app.contracts"])
    assert {"sqlalchemy", "interview_app.settings"} <= set(found["interview_app.db"])
