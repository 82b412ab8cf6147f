"""Run real PyTorch training programs (upstream/) on PyTorch and on ember, and compare.

    python tests/programs/run_programs.py [--program NAME] [--timeout S] [--no-torch]

Each program runs in a subprocess, in a fresh temporary directory, through launch.py:
once with real torch, once with ``torch`` aliased to ember. The program files are not
edited for ember (see each file's header for the few size changes). From each run we
take the exit status, the wall time and the losses it prints (the first number after the
word "loss" on each line that has it, unless the program says otherwise), and print:

    program | ember ok? | time ember/torch | first -> last loss, ember | same, torch | decreases like torch?

"decreases like torch": ember's last loss is below its first exactly when torch's is, and
ember's last loss is within LOSS_FACTOR of torch's (a loose, qualitative check: the
programs are seeded but the two libraries draw different random numbers).
"""

import argparse
import dataclasses
import importlib.util
import os
import pathlib
import re
import subprocess
import sys
import tempfile
import time

HERE = pathlib.Path(__file__).resolve().parent
UPSTREAM = HERE / "upstream"
LAUNCH = HERE / "launch.py"


def _ember_dir():
    """The folder holding the ember this interpreter imports (installed, editable or on PYTHONPATH), so
    that the programs' subprocesses use the same one; the checkout's python/ when ember is not importable."""
    spec = importlib.util.find_spec("ember")
    if spec is None or spec.origin is None:
        return HERE.parent.parent / "python"
    return pathlib.Path(spec.origin).resolve().parent.parent


PYTHON_DIR = _ember_dir()

LOSS_FACTOR = 5.0
# The number after "loss" in "loss: 0.5", "Loss: 2.30", "loss  3.87 | ppl", "Average loss: 536.9".
LOSS_AFTER_WORD = re.compile(r"loss\b[^0-9+\-\n]*([-+]?\d+(?:\.\d*)?(?:[eE][-+]?\d+)?)", re.IGNORECASE)
# The tutorials print "99 1234.5": iteration and loss.
ITERATION_AND_LOSS = re.compile(r"^\d+ ([-+]?\d+(?:\.\d*)?(?:[eE][-+]?\d+)?)$")


@dataclasses.dataclass
class Program:
    script: str  # relative to upstream/
    args: tuple = ()
    setup: tuple = ()  # scripts (relative to upstream/) run first, in the same directory and backend
    env: dict = dataclasses.field(default_factory=dict)
    loss_pattern: re.Pattern = LOSS_AFTER_WORD
    # For programs that print one loss only (they stop at a loss threshold): its bound.
    final_loss_below: float = None


WLM = "word_language_model"
WLM_ARGS = ("--data", str(UPSTREAM / WLM / "data" / "tiny"), "--epochs", "2", "--emsize", "16", "--nhid", "16")
WLM_ARGS += ("--nlayers", "1", "--bptt", "10", "--log-interval", "5", "--lr", "5", "--save", "model.pt")
MAKEMORE_ARGS = ("-i", str(UPSTREAM / "makemore" / "names.txt"), "-o", "out", "--num-workers", "0")
MAKEMORE_ARGS += ("--n-layer", "2", "--n-embd", "32", "--n-embd2", "32")

PROGRAMS = {
    "tutorial_polynomial_custom_function": Program(
        "tutorials/polynomial_custom_function.py", loss_pattern=ITERATION_AND_LOSS
    ),
    "tutorial_polynomial_optim": Program("tutorials/polynomial_optim.py", loss_pattern=ITERATION_AND_LOSS),
    "tutorial_quickstart": Program("tutorials/quickstart_tutorial.py"),
    "regression": Program("regression/main.py", final_loss_below=1e-3),
    # The data file is a pickled numpy array, which torch.load (weights_only=True by default
    # since PyTorch 2.6) refuses; PyTorch's documented switch for such files is this variable.
    "time_sequence_prediction": Program(
        "time_sequence_prediction/train.py",
        ("--steps", "2"),
        setup=("time_sequence_prediction/generate_sine_wave.py",),
        env={"TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD": "1"},
    ),
    "word_language_model_lstm": Program(f"{WLM}/main.py", ("--model", "LSTM", *WLM_ARGS)),
    "word_language_model_transformer": Program(f"{WLM}/main.py", ("--model", "Transformer", *WLM_ARGS)),
    # The MNIST programs read the synthetic MNIST of shims/torchvision; --no-accel keeps them on the CPU.
    "mnist_cnn": Program("mnist/main.py", ("--no-accel", "--epochs", "2", "--test-batch-size", "256")),
    # As a user runs it, without --no-accel: asks torch.accelerator whether to use a GPU.
    "mnist_cnn_default_device": Program("mnist/main.py", ("--epochs", "1", "--test-batch-size", "256")),
    "mnist_rnn": Program("mnist_rnn/main.py", ("--epochs", "2", "--log-interval", "2")),
    "mnist_vae": Program("vae/main.py", ("--no-accel", "--epochs", "2", "--log-interval", "2")),
    "mnist_forward_forward": Program(
        "mnist_forward_forward/main.py", ("--no_accel", "--epochs", "30", "--train_size", "256", "--test_size", "128")
    ),
    # 201 steps: one sampling round (print_samples at step 200) after the training steps.
    "makemore_transformer": Program(
        "makemore/makemore.py", (*MAKEMORE_ARGS, "--type", "transformer", "--max-steps", "201")
    ),
    "makemore_gru": Program("makemore/makemore.py", (*MAKEMORE_ARGS, "--type", "gru", "--max-steps", "101")),
    # ResNet-18 twins on pairs of the synthetic MNIST's images (shims/torchvision: models.resnet18).
    "siamese_network": Program(
        "siamese_network/main.py",
        ("--no-accel", "--epochs", "1", "--batch-size", "32", "--test-batch-size", "64", "--log-interval", "2"),
        env={"MNIST_TRAIN": "256", "MNIST_TEST": "128"},
    ),
    # A GAN on torchvision's FakeData (shims/torchvision): 8 steps of 32 images 64x64, two loader workers, and
    # the discriminator's loss, which falls as it learns to tell the noise images from the generator's.
    "dcgan": Program(
        "dcgan/main.py",
        (
            "--dataset",
            "fake",
            "--ngf",
            "8",
            "--ndf",
            "8",
            "--nz",
            "16",
            "--batchSize",
            "32",
            "--niter",
            "1",
            "--workers",
            "2",
            "--manualSeed",
            "1",
        ),  # fmt: skip
        env={"FAKEDATA_SIZE": "256"},
        loss_pattern=re.compile(r"Loss_D: ([-+]?\d+(?:\.\d*)?)"),
    ),
}


@dataclasses.dataclass
class Run:
    returncode: int
    seconds: float
    losses: list
    error: str  # the last line of stderr when the run failed ("" otherwise)
    output: str


def run_program(name, backend, timeout=120, workdir=None):
    """Runs PROGRAMS[name] on backend ("ember" or "torch") in workdir (a fresh temporary one by default)."""
    program = PROGRAMS[name]
    with tempfile.TemporaryDirectory(prefix=f"{name}-") as tmp:
        cwd = pathlib.Path(workdir or tmp)
        env = {**os.environ, **program.env}
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(PYTHON_DIR), env.get("PYTHONPATH")]))
        # One thread each: PyTorch's default (all cores) crawls on a small shared machine.
        env.setdefault("OMP_NUM_THREADS", "1")
        start = time.perf_counter()
        output, returncode = "", 0
        for script, args in [*((s, ()) for s in program.setup), (program.script, program.args)]:
            command = [sys.executable, str(LAUNCH), backend, str(UPSTREAM / script), *args]
            try:
                done = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
            except subprocess.TimeoutExpired as e:
                partial = e.stdout or ""  # bytes, despite text=True, on some Python versions
                output += partial.decode(errors="replace") if isinstance(partial, bytes) else partial
                return Run(
                    -1, time.perf_counter() - start, parse_losses(name, output), f"timeout ({timeout} s)", output
                )
            output += done.stdout + done.stderr
            returncode = done.returncode
            if returncode != 0:
                break
        seconds = time.perf_counter() - start
    error = "" if returncode == 0 else last_error_line(output)
    return Run(returncode, seconds, parse_losses(name, output), error, output)


def parse_losses(name, output):
    pattern = PROGRAMS[name].loss_pattern
    losses = []
    for line in output.splitlines():
        match = pattern.search(line.strip())
        if match:
            losses.append(float(match.group(1)))
    return losses


def last_error_line(output):
    lines = [line for line in output.splitlines() if line.strip()]
    # The exception line of a traceback, else whatever came last.
    for line in reversed(lines):
        if re.match(r"^[A-Za-z_][\w.]*(Error|Exception|Interrupt|Exit)\b", line):
            return line.strip()
    return lines[-1].strip() if lines else "(no output)"


def learns(name, losses):
    """Whether a run's losses show learning: last below first, or (one minibatch's loss is noisy) the mean
    of the later half below the mean of the first half; or the program's one loss below its bound."""
    bound = PROGRAMS[name].final_loss_below
    if bound is not None and len(losses) == 1:
        return losses[0] < bound
    half = len(losses) // 2
    later_half_lower = half >= 2 and sum(losses[-half:]) < sum(losses[:half])
    return len(losses) >= 2 and (losses[-1] < losses[0] or later_half_lower)


def decreases_like(ember, torch):
    """The qualitative comparison of the module docstring."""
    if len(ember) < 1 or len(torch) < 1:
        return False
    if (ember[-1] < ember[0]) != (torch[-1] < torch[0]):
        return False
    a, b = abs(ember[-1]), abs(torch[-1])
    return max(a, b) <= LOSS_FACTOR * min(a, b) or abs(a - b) <= 1e-2


def shorten(text, width=80):
    return text if len(text) <= width else text[: width - 3] + "..."


def first_last(losses):
    return f"{losses[0]:.4g} -> {losses[-1]:.4g}" if losses else "-"


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--program", choices=sorted(PROGRAMS), help="run this program only")
    parser.add_argument("--timeout", type=float, default=300, help="seconds per run (default 300)")
    parser.add_argument("--no-torch", action="store_true", help="run on ember only")
    parser.add_argument("-v", "--verbose", action="store_true", help="print the output of failed runs")
    options = parser.parse_args()

    names = [options.program] if options.program else list(PROGRAMS)
    rows, runs_on_ember = [], 0
    header = (
        "program",
        "ember runs?",
        "ember s",
        "torch s",
        "ember loss first -> last",
        "torch loss first -> last",
        "like torch?",
    )
    for name in names:
        ember = run_program(name, "ember", options.timeout)
        torch = None if options.no_torch else run_program(name, "torch", options.timeout)
        ok = ember.returncode == 0
        runs_on_ember += ok
        if torch is None:
            like = "learns" if ok and learns(name, ember.losses) else "no"
        elif torch.returncode != 0:
            like = f"torch failed: {shorten(torch.error)}"
        else:
            like = "yes" if ok and decreases_like(ember.losses, torch.losses) else "no"
        rows.append(
            (
                name,
                "yes" if ok else f"no (exit {ember.returncode}): {shorten(ember.error)}",
                f"{ember.seconds:.1f}",
                "-" if torch is None else f"{torch.seconds:.1f}",
                first_last(ember.losses),
                "-" if torch is None else first_last(torch.losses),
                like,
            )
        )
        print(f"{name}: done", file=sys.stderr, flush=True)
        if options.verbose and not ok:
            print(ember.output[-3000:], file=sys.stderr)
    print_table(header, rows)
    print(f"\n{runs_on_ember} of {len(names)} programs run on ember")


def print_table(header, rows):
    widths = [max(len(str(row[i])) for row in (header, *rows)) for i in range(len(header))]
    for row in (header, tuple("-" * w for w in widths), *rows):
        print(" | ".join(str(cell).ljust(width) for cell, width in zip(row, widths)).rstrip())


if __name__ == "__main__":
    main()
