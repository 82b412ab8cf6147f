"""The design notes stay findable: every `Note [...]` the code defines is in
the index of docs/design.md, and every Note the code refers to is defined."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SOURCES = [p for d in ("csrc", "python") for p in (ROOT / d).rglob("*") if p.suffix in (".h", ".cpp", ".py")]
DEFINITION = re.compile(r"^\s*(?://\s*)?Note \[([^\]]+)\](?::|$)", re.M)
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
