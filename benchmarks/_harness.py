"""What every benchmark here shares: timing, the peers to time against, the
table printed and the JSON written. A benchmark is a list of cases; each case
builds, for one library module, a zero-argument function to time."""

import argparse
import functools
import inspect
import json
import platform
import statistics
import sys
import time

import numpy as np


def measure(fn, iters, repeats):
    """Median microseconds per call of fn, run alone in its process (as every benchmark here runs
    each library, and each setting of one): `repeats` back-to-back runs of `iters` calls after a
    warm-up, with no pause between them, so whatever a user would meet (threads that go to sleep
    and wake, another process) is in the numbers."""
    for _ in range(max(1, iters // 10)):  # warm-up: caches, lazy init, allocator
        fn()
    samples = []
    for _ in range(repeats):
        start = time.perf_counter()
        for _ in range(iters):
            fn()
        samples.append((time.perf_counter() - start) / iters * 1e6)
    return statistics.median(samples)


def calibrated_iters(fn, seconds):
    """How many calls of fn take about `seconds` (at least 3): the count of a warm-up run that long."""
    calls, start = 0, time.perf_counter()
    while calls < 3 or time.perf_counter() - start < seconds:
        fn()
        calls += 1
    return calls


def print_table(results):
    cols = [
        c for c in ("ember_us", "torch_us", "numpy_us", "ember/torch", "ember/numpy") if any(c in r for r in results)
    ]
    heads = {"ember_us": "ember us", "torch_us": "torch us", "numpy_us": "numpy us"}
    width = max(len(r["case"]) for r in results)
    header = f"{'case':<{width}}" + "".join(f"{heads.get(c, c):>13}" for c in cols)
    print(header)
    print("-" * len(header))
    for r in results:
        line = f"{r['case']:<{width}}"
        for c in cols:
            line += f"{r[c]:>13.2f}" if c in r else f"{'-':>13}"
        print(line)
    if not any("torch_us" in r for r in results):
        print("(PyTorch not importable: no ember/torch ratios.)")
    print(f"(ember's OpenBLAS ran its {blas_kernels()} kernels.)")


@functools.lru_cache(maxsize=None)
def blas_kernels():
    """The kernels ember's OpenBLAS picks here ("Haswell", "SkylakeX", ...): they follow the CPU, or
    OPENBLAS_CORETYPE where that is set, and move every product-bound ratio. Asked once per process: a
    parent that never imports ember asks a child, and run_all.py prints it in every table."""
    if "ember" in sys.modules:
        return sys.modules["ember"]._blas.kernel_core()
    import subprocess

    code = "import ember._blas as b; print(b.kernel_core())"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    return done.stdout.strip() or "unknown"


def write_json(path, results, libs, **meta):
    mods = dict(libs)
    info = {
        "python": sys.version.split()[0],
        "machine": platform.machine(),
        "ember": getattr(mods.get("ember"), "__version__", None),
        "torch": getattr(mods.get("torch"), "__version__", None),
        "numpy": np.__version__,
        "openblas_kernels": blas_kernels(),
    }
    info.update(meta)
    with open(path, "w") as f:
        json.dump({"meta": info, "results": results}, f, indent=2)


def write_json_of_children(path, results, versions, **meta):
    """write_json for libraries timed in child processes: `versions` maps a library's name to the
    version its child reported."""
    libs = [(name, type("lib", (), {"__version__": v})) for name, v in versions.items()]
    write_json(path, results, libs, separate_processes=True, **meta)


def row_of_children(script, case, *child_args, versions, libs=("ember", "torch")):
    """One result row: `case` timed by ember and by PyTorch (and numpy, when `libs` names it), each
    in a child process of its own (run_child(script, lib, *child_args) prints {"us": ...,
    "version": ...}); records each library's version in `versions`."""
    row = {"case": case}
    for lib_name in libs:
        result = run_child(script, lib_name, *child_args)
        if result is not None:
            row[lib_name + "_us"] = result["us"]
            versions[lib_name] = result["version"]
    for peer in ("torch", "numpy"):
        if peer + "_us" in row:
            row["ember/" + peer] = row["ember_us"] / row[peer + "_us"]
    return row


def cli(doc, argv):
    """The command line every benchmark takes: [--quick] [--json PATH]."""
    parser = argparse.ArgumentParser(description=doc.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer iterations (a few seconds)")
    parser.add_argument("--json", metavar="PATH", help="write results as JSON to PATH")
    return parser.parse_args(argv)


def run_benchmark(doc, cases, argv, quick, full):
    """The benchmark of `cases` ([(name, case(lib) -> fn, numpy_case() -> fn or None)]): each case
    timed by ember, by PyTorch and (where it has one) by numpy's hand-written version, each in a process
    of its own (the script that defines the cases, run with --child). `quick`/`full` are (seconds each
    repeat runs, repeats). Parses the command line, prints the table, writes the JSON if asked; returns
    the result rows. In a child (argv --child lib index seconds repeats) it times that one and prints
    its JSON instead, returning None."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] == "--child":
        _time_one_case(cases, argv[1], int(argv[2]), float(argv[3]), int(argv[4]))
        return None
    args = cli(doc, argv)
    seconds, repeats = quick if args.quick else full
    script = inspect.getfile(cases[0][1])
    versions, results = {}, []
    for index, (name, _, numpy_case) in enumerate(cases):
        libs = ("ember", "torch") + (("numpy",) if numpy_case is not None else ())
        results.append(row_of_children(script, name, index, seconds, repeats, versions=versions, libs=libs))
    print_table(results)
    if args.json:
        write_json_of_children(args.json, results, versions, quick=args.quick)
    return results


def _time_one_case(cases, lib_name, index, seconds, repeats):
    """A child's work for run_benchmark: times case `index` with one library (numpy: the hand-written
    version) and prints {"us": median microseconds, "version": ...} as JSON."""
    import json

    _, case, numpy_case = cases[index]
    if lib_name == "numpy":
        fn, version = numpy_case(), np.__version__
    else:
        lib = __import__(lib_name)
        lib.manual_seed(0)
        fn = case(lib)
        version = getattr(lib, "__version__", None)
    print(json.dumps({"us": measure(fn, calibrated_iters(fn, seconds), repeats), "version": version}))


def run_child(script, lib_name, *args):
    """Runs `script --child lib_name args...` in a fresh process and returns the JSON its last line
    prints; None when the library is PyTorch and it is not installed."""
    import json
    import subprocess
    import sys

    cmd = [sys.executable, script, "--child", lib_name, *map(str, args)]
    done = subprocess.run(cmd, capture_output=True, text=True)
    if done.returncode != 0:
        if lib_name == "torch" and "No module named 'torch'" in done.stderr:
            return None
        raise RuntimeError(f"{lib_name} benchmark failed:\n{done.stderr}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def time_case_in_child(make, lib_name, iters, repeats):
    """A child process's work: times make(lib) with one library and prints {"us": median microseconds,
    "version": ...} as JSON for run_child to read."""
    import json

    lib = __import__(lib_name)
    print(json.dumps({"us": measure(make(lib), iters, repeats), "version": getattr(lib, "__version__", None)}))


def cases_in_children(doc, script, cases, argv, quick=(3, 3), full=(10, 5), libs=("ember", "torch")):
    """The benchmark whose cases (a dict name -> make(lib)) each run in a child process per library
    of `libs`: `script --child lib case iters repeats` times one (run it with time_case_in_child), this
    prints the table and writes the JSON when asked; returns the result rows."""
    args = cli(doc, argv)
    iters, repeats = quick if args.quick else full
    versions = {}
    results = [row_of_children(script, case, case, iters, repeats, versions=versions, libs=libs) for case in cases]
    print_table(results)
    if args.json:
        write_json_of_children(args.json, results, versions, quick=args.quick)
    return results


def child_or_main(cases, doc, script, main=None):
    """The `__main__` of a cases_in_children benchmark: the child's timing, or the whole run (`main`
    when the benchmark has one)."""
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        time_case_in_child(cases[sys.argv[3]], sys.argv[2], int(sys.argv[4]), int(sys.argv[5]))
    elif main is not None:
        main()
    else:
        cases_in_children(doc, script, cases, sys.argv[1:])
