"""Real PyTorch training programs (tests/programs/upstream/) run unchanged on ember.

Each program runs in a subprocess with ``torch`` aliased to ember (tests/programs/launch.py)
and must exit cleanly with its losses going down. About 20 s in all on two cores. The
comparison with PyTorch itself is tests/programs/run_programs.py's job, so these tests
need no torch.
"""

import importlib.util
import pathlib

import pytest

_RUNNER = pathlib.Path(__file__).resolve().parent / "programs" / "run_programs.py"
_spec = importlib.util.spec_from_file_location("run_programs", _RUNNER)
run_programs = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(run_programs)

# Programs that fail on ember because ember lacks something: strict xfails, so a test
# turns red (XPASS) once the missing piece lands and the entry should be deleted.
KNOWN_MISSING: dict[str, str] = {}


def _params():
    for name in run_programs.PROGRAMS:
        marks = [pytest.mark.xfail(strict=True, reason=KNOWN_MISSING[name])] if name in KNOWN_MISSING else []
        yield pytest.param(name, id=name, marks=marks)


@pytest.mark.parametrize("name", _params())
def test_program_trains_on_ember(name, tmp_path):
    run = run_programs.run_program(name, "ember", timeout=120, workdir=tmp_path)
    assert run.returncode == 0, f"{name} failed on ember: {run.error}\n{run.output[-2000:]}"
    assert run_programs.learns(name, run.losses), f"{name}: losses {run.losses} do not go down"


def test_known_missing_names_are_programs():
    assert set(KNOWN_MISSING) <= set(run_programs.PROGRAMS)


def test_randint_with_one_bound_and_size_keyword():
    # mnist_forward_forward calls torch.randint(len(allowed_indices), size=(1,)): the one
    # positional bound is the upper one, as with randint(high, size).
    import ember

    values = ember.randint(3, size=(100,))
    assert values.shape == (100,) and 0 <= values.min().item() and values.max().item() < 3
