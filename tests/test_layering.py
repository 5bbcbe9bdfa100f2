"""The layering contracts (issue #18), checked on the source text: every module is parsed with `ast`, never
imported, so the check is fast and cannot be fooled by import side effects.

- `ocr/` reads images and proposes text: no database, services, pages or Streamlit;
- `models/` is the schema: no services, pages, OCR or Streamlit;
- the services (`workbench/` outside `workbench/ui/`; the entry file `streamlit_app.py` sits at the root) never draw:
  no Streamlit, no pages;
- the pages (`app_pages/`) lay out widgets and call services: no OCR (what a page needs of it comes through a
  service, e.g. `workbench.intake.uploads` opens an uploaded ZIP);
- production code never depends on the test suite or the benchmarks;
- the tests never depend on the benchmarks: what both need (synthetic lines and field cells, page and export
  scores) lives in `samples/`. Only a test of a benchmark tool imports that tool (`BENCH_TOOL_TESTS`);
- inside `ocr/`, a stage imports only itself and the stages before it (`OCR_STAGES`): the shared data and settings
  (`types`, `settings`, and `page_warnings`, the typed page warnings `types` holds), the field types as pure text
  (`fields`: `image` and `read` use it, it imports none of the stages), the page image (`image`), the ledger's
  layout (`layout`), reading lines (`read`), place names read with the gazetteer (`places`), and the top that puts
  them together (`confidence`, `recognition`, `reader`, `pipeline`).

Imports inside functions count (a lazy import is still a dependency), and so do relative imports and
`importlib.import_module("...")` / `__import__("...")` calls with a literal name.
"""

from __future__ import annotations

import ast
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# Not source: virtual environments, caches, app data and test output.
_SKIPPED_DIRS = frozenset({"__pycache__", "data", "test-artifacts", "node_modules"})


@dataclass(frozen=True)
class Rule:
    """Modules whose repository-relative path satisfies `applies` must not import `forbidden` packages."""

    name: str
    applies: Callable[[str], bool]
    forbidden: frozenset[str]


def _is_service(path: str) -> bool:
    return path.startswith("workbench/") and not path.startswith("workbench/ui/")


RULES: tuple[Rule, ...] = (
    Rule("ocr/ stays free of the app", lambda p: p.startswith("ocr/"),
         frozenset({"models", "workbench", "app_pages", "streamlit", "sqlalchemy"})),
    Rule("models/ is the schema only", lambda p: p.startswith("models/"),
         frozenset({"workbench", "app_pages", "ocr", "streamlit"})),
    Rule("services never draw", _is_service, frozenset({"streamlit", "app_pages"})),
    Rule("pages call services, not the OCR", lambda p: p.startswith("app_pages/"), frozenset({"ocr"})),
    Rule("production code does not depend on tests or benchmarks",
         lambda p: not p.startswith(("tests/", "bench/")), frozenset({"tests", "bench"})),
    Rule("tests do not depend on benchmarks", lambda p: p.startswith("tests/"), frozenset({"bench"})),
)

# Known violations, each with the reason it is tolerated and the issue that removes it. Keyed by
# (file, imported module). Empty: none existed when the contracts were written (issue #18).
ALLOWED: dict[tuple[str, str], str] = {}

# Not violations: the tests of the benchmark tools themselves, each importing only the tool it runs.
BENCH_TOOL_TESTS: frozenset[tuple[str, str]] = frozenset({
    ("tests/test_bench_cells.py", "bench.fit_calibrator"),
    ("tests/test_bench_cells.py", "bench.recognition"),
    ("tests/test_bench_real_lines.py", "bench.real_lines"),
    ("tests/test_calibrator_v3.py", "bench.fit_calibrator"),
    ("tests/test_scale_smoke.py", "bench.scale"),
    ("tests/test_scale_smoke.py", "bench.scale_seed"),
    ("tests/test_synthetic_hands.py", "bench.synthetic_hands"),
    ("tests/test_verify_load_smoke.py", "bench.verify_load"),
})


# The stages of `ocr/`, lowest first: a module may import its own stage and lower ones, never a higher one.
# Keyed by the name under `ocr` (a subpackage or a top module); the package `ocr` itself is the top.
OCR_STAGES: dict[str, int] = {
    "types": 0, "settings": 0, "page_warnings": 0,
    "fields": 1,
    "image": 2,
    "layout": 3,
    "read": 4,
    "places": 5,
    "confidence": 6, "recognition": 6, "reader": 6, "pipeline": 6, "": 6,
}
# Known stage-order violations, keyed by (file, imported module), each with its reason. Empty: the two found when
# the order was written down moved (issue #18): the page checks that need the grid went from ocr/image/page_qa.py to
# ocr/layout/table_qa.py, and ocr/layout/book_type_check.py, which reads the title with the recognizer, to ocr/read/.
STAGE_EXCEPTIONS: dict[tuple[str, str], str] = {}


@dataclass(frozen=True)
class Violation:
    path: str
    line: int
    module: str
    rule: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line} imports {self.module!r} ({self.rule})"


def source_files(root: Path) -> Iterator[Path]:
    """Every .py file of the repository, skipping hidden folders (.venv, .git) and data/output folders."""
    for folder, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if not d.startswith(".") and d not in _SKIPPED_DIRS)
        for name in sorted(files):
            if name.endswith(".py"):
                yield Path(folder) / name


def _package_of(path: str) -> list[str]:
    """The dotted package a module sits in, as parts: 'ocr/fields/x.py' -> ['ocr', 'fields']."""
    return path.split("/")[:-1]


def _resolve(node: ast.ImportFrom, path: str) -> list[str]:
    """Absolute module names an ImportFrom reaches; `from .. import x` may name modules, so list them."""
    if node.level == 0:
        return [node.module or ""]
    package = _package_of(path)
    base = package[: max(len(package) - (node.level - 1), 0)]
    if node.module:
        return [".".join([*base, node.module])]
    return [".".join([*base, alias.name]) for alias in node.names]


def _literal_import(node: ast.Call) -> str | None:
    """The module named by `importlib.import_module("m")` or `__import__("m")`, if it is a literal."""
    func = node.func
    name = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else None
    if name not in ("import_module", "__import__") or not node.args:
        return None
    first = node.args[0]
    return first.value if isinstance(first, ast.Constant) and isinstance(first.value, str) else None


def imported_modules(tree: ast.AST, path: str) -> Iterator[tuple[int, str]]:
    """(line, absolute module name) for every import anywhere in the module, function bodies included."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom):
            for module in _resolve(node, path):
                yield node.lineno, module
        elif isinstance(node, ast.Call) and (module := _literal_import(node)) is not None:
            yield node.lineno, module


def find_violations(root: Path, rules: tuple[Rule, ...] = RULES) -> list[Violation]:
    """Every import in the tree under `root` that breaks one of `rules`."""
    found = []
    for file in source_files(root):
        path = file.relative_to(root).as_posix()
        applicable = [rule for rule in rules if rule.applies(path)]
        if not applicable:
            continue
        tree = ast.parse(file.read_text(encoding="utf-8"), filename=path)
        for line, module in imported_modules(tree, path):
            top = module.split(".")[0]
            found += [Violation(path, line, module, rule.name) for rule in applicable if top in rule.forbidden]
    return found


@cache
def _repository_violations() -> tuple[Violation, ...]:
    return tuple(find_violations(ROOT))  # parsed once for both repository tests


def test_layers_hold() -> None:
    broken = [v for v in _repository_violations() if (v.path, v.module) not in ALLOWED.keys() | BENCH_TOOL_TESTS]
    assert not broken, "layering broken (see tests/test_layering.py):\n" + "\n".join(map(str, broken))


def test_allow_list_is_not_stale() -> None:
    # An entry whose import is gone would silently allow it to come back.
    present = {(v.path, v.module) for v in _repository_violations()}
    assert not set(ALLOWED) - present, f"remove fixed entries from ALLOWED: {sorted(set(ALLOWED) - present)}"
    stale = BENCH_TOOL_TESTS - present
    assert not stale, f"remove entries from BENCH_TOOL_TESTS: {sorted(stale)}"


def ocr_stage(module: str) -> int:
    """The stage of an `ocr` module ('ocr.read.decoding' -> 4); KeyError for a stage not in OCR_STAGES."""
    parts = module.split(".")
    return OCR_STAGES[parts[1] if len(parts) > 1 else ""]


def stage_violations(root: Path) -> list[Violation]:
    """Every import in `ocr/` under `root` of a higher stage than the importing module's own."""
    found = []
    for file in source_files(root / "ocr"):
        path = file.relative_to(root).as_posix()
        own = ocr_stage(path.removesuffix(".py").removesuffix("/__init__").replace("/", "."))
        tree = ast.parse(file.read_text(encoding="utf-8"), filename=path)
        for line, module in imported_modules(tree, path):
            if module.split(".")[0] == "ocr" and ocr_stage(module) > own:
                found.append(Violation(path, line, module, "ocr/ stages import only earlier stages"))
    return found


@cache
def _repository_stage_violations() -> tuple[Violation, ...]:
    return tuple(stage_violations(ROOT))


def test_ocr_stages_import_only_earlier_stages() -> None:
    broken = [v for v in _repository_stage_violations() if (v.path, v.module) not in STAGE_EXCEPTIONS]
    assert not broken, "ocr/ stage order broken (see OCR_STAGES in tests/test_layering.py):\n" + "\n".join(
        map(str, broken))
    present = {(v.path, v.module) for v in _repository_stage_violations()}
    assert not set(STAGE_EXCEPTIONS) - present, f"remove fixed entries: {sorted(set(STAGE_EXCEPTIONS) - present)}"


def test_every_ocr_module_has_a_stage() -> None:
    # A new subpackage or top module of ocr/ must be placed in OCR_STAGES before it can be checked.
    names = {p.relative_to(ROOT / "ocr").parts[0].removesuffix(".py") for p in source_files(ROOT / "ocr")}
    assert names - {"__init__"} <= OCR_STAGES.keys(), f"add to OCR_STAGES: {sorted(names - OCR_STAGES.keys())}"


def test_stage_check_catches_a_higher_stage(tmp_path: Path) -> None:
    _write(tmp_path, {
        "ocr/__init__.py": "from ocr.pipeline import run\n",
        "ocr/image/page_qa.py": "def f():\n    from ocr.layout.grid import find_rulings\n",
        "ocr/image/loading.py": "from ocr.fields.text import strip_controls\nfrom ocr.types import Box\n",
        "ocr/layout/check.py": "from ..read.engines import base\nfrom ocr.image import page_qa\n",
        "ocr/fields/dates.py": "from ocr.fields import issues\nimport ocr.read.decoding\n",
        "ocr/types.py": "from ocr.settings import GridSettings\nfrom ocr import confidence\n",
        "ocr/recognition.py": "from ocr.pipeline import x\nfrom ocr.places.index import y\n",
    })
    found = {(v.path, v.line, v.module) for v in stage_violations(tmp_path)}
    assert found == {
        ("ocr/image/page_qa.py", 2, "ocr.layout.grid"),
        ("ocr/layout/check.py", 1, "ocr.read.engines"),
        ("ocr/fields/dates.py", 2, "ocr.read.decoding"),
        ("ocr/types.py", 2, "ocr"),  # `from ocr import x` loads the package, the top of the stages
    }


def _write(root: Path, files: dict[str, str]) -> None:
    for path, text in files.items():
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        (root / path).write_text(text, encoding="utf-8")


def test_checker_catches_each_kind_of_violation(tmp_path: Path) -> None:
    _write(tmp_path, {
        "ocr/__init__.py": "",
        "ocr/fields/lazy.py": "import re\n\ndef f():\n    from sqlalchemy.orm import Session\n    return Session\n",
        "ocr/fields/relative.py": "from ..page import analyze\nfrom ...workbench import db\n",
        "ocr/dynamic.py": "import importlib\nst = importlib.import_module('streamlit')\n",
        "models/entities.py": "import ocr.types\n",
        "workbench/service.py": "import streamlit as st\n",
        "workbench/ui/widgets.py": "import streamlit as st\n",
        "streamlit_app.py": "import streamlit as st\nimport app_pages.login\n",
        "app_pages/login.py": "import streamlit as st\nfrom bench.scale import run\n",
        "app_pages/upload.py": "from models import Role\nfrom ocr.image.loading import zip_members\n",
        "samples/render.py": "def f():\n    import tests.conftest\n",
        "tests/test_x.py": "import bench.recognition\nimport streamlit\n",
        "tests/support.py": "from bench.synthetic_fields import FieldSample\n",
        "bench/run.py": "import tests.backends\n",
        ".venv/lib/streamlit_thing.py": "import bench\n",
    })
    found = {(v.path, v.line, v.module) for v in find_violations(tmp_path)}
    assert found == {
        ("ocr/fields/lazy.py", 4, "sqlalchemy.orm"),
        ("ocr/fields/relative.py", 2, "workbench"),
        ("ocr/dynamic.py", 2, "streamlit"),
        ("models/entities.py", 1, "ocr.types"),
        ("workbench/service.py", 1, "streamlit"),
        ("app_pages/login.py", 2, "bench.scale"),
        ("app_pages/upload.py", 2, "ocr.image.loading"),
        ("samples/render.py", 2, "tests.conftest"),
        ("tests/test_x.py", 1, "bench.recognition"),
        ("tests/support.py", 1, "bench.synthetic_fields"),
    }


def test_violation_names_file_and_import(tmp_path: Path) -> None:
    _write(tmp_path, {"models/base.py": "from workbench.db import engine\n"})
    (violation,) = find_violations(tmp_path)
    assert str(violation) == "models/base.py:1 imports 'workbench.db' (models/ is the schema only)"
