"""The design notes stay findable: every `Note [...]` the code defines is in
the index of docs/design.md, and every Note the code refers to is defined."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CODE_SUFFIXES = (".h", ".cpp", ".cu", ".cuh", ".py")
SOURCES = [p for d in ("csrc", "python") for p in (ROOT / d).rglob("*") if p.suffix in CODE_SUFFIXES]
SOURCES += [ROOT / "CMakeLists.txt", ROOT / "pyproject.toml"]  # the build's Notes
DEFINITION = re.compile(r"^\s*(?:(?://|#)\s*)?Note \[([^\]]+)\](?::|$)", re.M)  # C++ or Python comment, or a docstring
MENTION = re.compile(r"Note \[([^\]]+)\]")


def test_every_note_is_indexed_and_every_reference_defined():
    defined, mentioned = set(), set()
    for path in SOURCES:
        text = path.read_text()
        defined |= set(DEFINITION.findall(text))
        mentioned |= set(MENTION.findall(text))
    design = (ROOT / "docs" / "design.md").read_text()
    indexed = set(re.findall(r"^\| \[([^\]]+)\] \|", design, re.M))
    assert defined, "no Note found: the pattern is wrong"
    assert defined <= indexed, f"Notes missing from docs/design.md's index: {sorted(defined - indexed)}"
    assert indexed <= defined, f"docs/design.md indexes Notes the code no longer defines: {sorted(indexed - defined)}"
    assert mentioned <= defined, f"Notes referred to but never defined: {sorted(mentioned - defined)}"


def test_readme_links_the_design_and_op_list():
    readme = (ROOT / "README.md").read_text()
    assert "docs/design.md" in readme and "docs/ops.md" in readme


def _public_api():
    """(qualified name, object) of every public function, class and method of ember's Python namespaces."""
    import inspect

    import ember
    import ember.nn.functional
    import ember.nn.init
    import ember.optim.lr_scheduler
    import ember.utils.data

    modules = [
        ember.nn,
        ember.nn.functional,
        ember.nn.init,
        ember.nn.utils,
        ember.optim,
        ember.optim.lr_scheduler,
        ember.autograd,
        ember.utils.data,
    ]
    seen = set()
    for mod in modules:
        for name in getattr(mod, "__all__", None) or dir(mod):
            obj = getattr(mod, name, None)
            if name.startswith("_") or inspect.ismodule(obj) or not callable(obj) or id(obj) in seen:
                continue
            if not (getattr(obj, "__module__", "") or "").startswith("ember"):
                continue  # re-exported from elsewhere (typing, numpy)
            seen.add(id(obj))
            yield f"{mod.__name__}.{name}", obj
            if inspect.isclass(obj):
                for attr, member in vars(obj).items():
                    public = not attr.startswith("_") or attr in ("__call__", "forward")
                    if public and inspect.isfunction(member):
                        yield f"{mod.__name__}.{name}.{attr}", member


def test_python_api_has_docstrings_and_signatures():
    import inspect

    missing, unsigned = [], []
    for qualname, obj in _public_api():
        if not (inspect.getdoc(obj) or "").strip():
            missing.append(qualname)
        if not inspect.isclass(obj):
            try:
                inspect.signature(obj)
            except (TypeError, ValueError):
                unsigned.append(qualname)
    assert not missing, f"public API without a docstring: {missing}"
    assert not unsigned, f"public API without a signature: {unsigned}"
