"""Writes docs/api-coverage.md: which of PyTorch's public names ember has, and
whether ember accepts the keywords PyTorch accepts for them.

    python tools/api_coverage.py           # regenerate docs/api-coverage.md (needs PyTorch importable)
    python tools/api_coverage.py --check   # exit 1 with a summary of the differences if it is stale

Which names count (the rule, applied to each namespace of NAMESPACES):

- a module's public names are its ``__all__`` where it defines one, else its
  ``dir()``; for ``torch.Tensor``, the attributes of the class; names starting
  with ``_`` never count;
- submodules are dropped (``torch.nn.functional`` is a namespace of its own, or
  out of scope), and so are objects whose home module is outside ``torch``
  (``typing.Optional``, ``collections.abc.Callable``, ``int`` re-exported as
  ``DType``): they are imports, not PyTorch's API;
- in a module without ``__all__`` (``torch.nn``, ``torch.nn.functional``,
  ``torch.linalg``) only functions and classes count: its other values are
  documentation strings, flags and TorchScript annotations
  (``reproducibility_notes``, ``TYPE_CHECKING``, ``BroadcastingList2``), and the
  ``__torch_function__``/TorchScript helpers it imports for its own use
  (INTERNAL_HELPERS) are dropped too.

Each name is then ``yes`` (``getattr`` finds it on ember's counterpart),
``excluded`` (ember does not have it and a rule of EXCLUSIONS says why it is
out of scope: CUDA, sparse, quantization, ...), or ``no``.  A name ember has is
``yes`` whatever the rules say.

For every function ember has in the namespaces of CALL_CHECKED, the keyword
check calls PyTorch and ember the same way: every parameter PyTorch's
signature (``inspect.signature``, else the signature lines that open its
docstring, one case per overload) names is passed as a keyword, with values from
the small templates of TEMPLATES chosen by parameter name, and the numpy
spellings ``axis=``/``keepdims=`` are tried where PyTorch accepts them.  Where
PyTorch succeeds and ember raises ``TypeError``, the keyword ember refused is a
mismatch.  Values are not compared: the parity tests do that.
"""

from __future__ import annotations

import argparse
import ast
import difflib
import importlib
import inspect
import re
import sys
import types
import warnings
from pathlib import Path

OUT = Path(__file__).resolve().parents[1] / "docs" / "api-coverage.md"

# (title, PyTorch's namespace, ember's counterpart); a class is written module:Class.
NAMESPACES = [
    ("torch", "torch", "ember"),
    ("Tensor", "torch:Tensor", "ember:Tensor"),
    ("nn", "torch.nn", "ember.nn"),
    ("nn.functional", "torch.nn.functional", "ember.nn.functional"),
    ("nn.init", "torch.nn.init", "ember.nn.init"),
    ("nn.utils", "torch.nn.utils", "ember.nn.utils"),
    ("optim", "torch.optim", "ember.optim"),
    ("optim.lr_scheduler", "torch.optim.lr_scheduler", "ember.optim.lr_scheduler"),
    ("autograd", "torch.autograd", "ember.autograd"),
    ("linalg", "torch.linalg", "ember.linalg"),
    ("func", "torch.func", "ember.func"),
    ("utils.data", "torch.utils.data", "ember.utils.data"),
    ("special", "torch.special", "ember.special"),
    ("fft", "torch.fft", "ember.fft"),
    ("distributions", "torch.distributions", "ember.distributions"),
    ("testing", "torch.testing", "ember.testing"),
    ("distributed", "torch.distributed", "ember.distributed"),
    ("profiler", "torch.profiler", "ember.profiler"),
    ("autograd.profiler", "torch.autograd.profiler", "ember.autograd.profiler"),
]
CALL_CHECKED = {"torch", "Tensor", "nn.functional", "linalg", "special", "fft"}
# The namespaces the issue sets targets for (the summary's second total).
CORE = ("torch", "Tensor", "nn", "nn.functional", "optim", "autograd", "utils.data")

INTERNAL_HELPERS = {
    "has_torch_function",
    "has_torch_function_unary",
    "has_torch_function_variadic",
    "handle_torch_function",
    "boolean_dispatch",
}

# Out of scope for a CPU autograd engine without these subsystems: (pattern searched in the name, reason).
EXCLUSIONS = [
    (r"(^|_)(cuda|cudnn|nccl)(_|$)|^is_pinned$|^pin_memory$", "CUDA / device-specific"),
    (
        r"(^|_)(mkldnn|xpu|mps|hip|mtia|maia|miopen|vulkan|ipu|hpu|meta)(_|$)",
        "other backend (MKLDNN, XPU, MPS, HIP, ...)",
    ),
    (
        r"(^|_)(q|qint\d*|quint\w*|quantize\w*|quantized|dequantize|qscheme|qparams|int_repr|fbgemm|fake)(_|$)|"
        r"fake_quant",
        "quantization",
    ),
    (r"^(float8_\w+|float4_\w+|bits\w+|bit|u?int[1-7])$", "bit-packed / sub-byte dtypes (quantization)"),
    (
        r"sparse|^SparseAdam$|(^|_)(coo|csr|csc|bsr|bsc|coalesced?|[sh]?spmm|[dh]?smm|sspaddmm|saddmm|to_dense|dense_dim)"
        r"(_|$)|"
        r"^(crow|ccol|col|row)_indices(_copy)?$|^(indices|values)(_copy)?$",
        "sparse tensors",
    ),
    (
        r"^(compile|is_compiling|fork|wait|Future|AVG|SUM|AggregationType)$|Script|\wType$|^(Type|Graph\w*|Block|Node|"
        r"Value|Use|\w*ArgumentSpec|Argument|AliasDb|Code|CallStack|Capsule|CompilationUnit|ConcreteModuleType\w*|"
        r"DeepCopyMemoTable|ErrorReport|ExecutionPlan|FileCheck|FunctionSchema|Gradient|IODescriptor|JITException|"
        r"\w+Logger|OperatorInfo|StaticModule|TracingState|Benchmark\w+|ThroughputBenchmark|import_ir_module\w*|"
        r"parse_ir|parse_schema|parse_type_comment|merge_type_from_type_comment|unify_type_list)$",
        "TorchScript / torch.compile",
    ),
    (
        r"^(ExcludeDispatchKeyGuard|Tag)$",
        "dispatcher / __torch_function__ internals",
    ),
    (r"^(refine_names|rename_?|align_to|align_as|align_tensors|names|has_names)$", "named tensors"),
    (r"nested|^to_padded_tensor$", "nested tensors"),
    (r"^is_distributed$", "distributed tensors"),
    (
        r"Store$|^(rendezvous|register_rendezvous_handler)$",
        "key-value stores and rendezvous: mpiexec starts and connects the ranks",
    ),
    (
        r"^(\w+Options|Reducer|Logger|GradBucket|BuiltinCommHookType|BackendConfig|get_backend_config|"
        r"ProcessGroupGloo|GroupName|record_comm)$",
        "c10d internals and other backends (ember.distributed runs on MPI)",
    ),
    (r"^(DeviceMesh|init_device_mesh)$", "DeviceMesh / DTensor (multi-dimensional parallelism)"),
    (r"(^|_)xla(_|$)", "XLA devices"),
    (r"^(Stream|Event|record_stream)$", "accelerator streams and events"),
    (r"^(ModuleDict|ParameterDict|BufferDict)$", "TorchScript's C++ containers (torch.nn's are in ember.nn)"),
    (
        r"^(PyTorchFileReader|PyTorchFileWriter|(De)?[Ss]erializationStorageContext)$",
        "the C++ internals of the zip checkpoint format (ember.save/load read and write the format itself)",
    ),
    (
        r"DataPipe|^(DataChunk|functional_datapipe|guaranteed_datapipes_determinism|non_deterministic|"
        r"argument_validation|runtime_validation\w*)$",
        "DataPipes (deprecated in PyTorch, moved to torchdata)",
    ),
    (
        r"^batch_norm_(stats|elemt|backward_elemt|backward_reduce|gather_stats\w*|update_stats)$",
        "SyncBatchNorm's per-device CUDA kernel entry points",
    ),
    (r"^(scaled_mm|scaled_grouped_mm)$", "float8 scaled matrix products (GPU)"),
    (r"^(emit_nvtx|emit_itt|load_nvprof|parse_nvprof_trace)$", "NVIDIA / Intel tracing tools"),
    (
        r"^(KinetoStepTracker|EnforceUnique|MemRecordsAcc|ExecutionTraceObserver)$",
        "Kineto and execution-trace internals (ember records its own events)",
    ),
    (r"^index$", "first-class dimensions (functorch.dim's Tensor.index binds dims to Dim objects)"),
    (
        r"^NestedIOFunction$",
        "the legacy non-static autograd.Function (deprecated since PyTorch 1.3; ember has the static form)",
    ),
]


def resolve(spec: str):
    """The module (or module:Class) that spec names, or None where it does not exist."""
    module, _, cls = spec.partition(":")
    try:
        obj = importlib.import_module(module)
    except ImportError:
        return None
    return getattr(obj, cls, None) if cls else obj


def public_names(ns) -> list[str]:
    """PyTorch's public names of a namespace, by the rule of the module docstring, sorted."""
    if inspect.isclass(ns):
        return sorted(n for n in dir(ns) if not n.startswith("_"))
    has_all = hasattr(ns, "__all__")
    names = []
    for name in ns.__all__ if has_all else dir(ns):
        if name.startswith("_") or not hasattr(ns, name):
            continue
        obj = getattr(ns, name)
        if isinstance(obj, types.ModuleType):
            continue
        home = getattr(obj, "__module__", None) if (inspect.isclass(obj) or callable(obj)) else None
        if isinstance(home, str) and not home.startswith("torch"):
            continue  # imported from typing, collections.abc, builtins, ...
        if not has_all and (not callable(obj) or name in INTERNAL_HELPERS):
            continue
        if inspect.isclass(obj) and ns.__name__ != "torch" and getattr(sys.modules["torch"], name, None) is obj:
            continue  # torch.Tensor, imported by torch.fft and torch.nn.functional, counts once, in torch
        names.append(name)
    return sorted(set(names))


def exclusion(name: str) -> str | None:
    for pattern, reason in EXCLUSIONS:
        if re.search(pattern, name):
            return reason
    return None


# ---------------------------------------------------------------------------------------------------------------
# Signatures: the keyword names and defaults PyTorch accepts.

VAR = "*"  # kind of a *args parameter


def parse_params(text: str) -> list[tuple[str, str, object]] | None:
    """(name, kind, default) of each parameter of 'a, b=1, *, c=None'; kind is 'pos', 'kw' (keyword-only) or VAR;
    default is inspect.Parameter.empty for a required parameter, or None-able object; None if unparsable."""
    parts, depth, current = [], 0, ""
    for ch in text:
        if ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth -= 1
        if ch == "," and depth == 0:
            parts.append(current)
            current = ""
        else:
            current += ch
    parts.append(current)
    params, kw_only = [], False
    for part in (p.strip() for p in parts):
        if not part or part == "/":
            continue
        if part == "*":
            kw_only = True
            continue
        if part.startswith("**"):
            continue
        if part.startswith("*"):
            params.append((part[1:].split(":")[0].split("(")[0].strip(), VAR, inspect.Parameter.empty))
            kw_only = True
            continue
        name, eq, default = part.partition("=")
        name, _, annotation = name.partition(":")
        name = name.split("(")[0].strip()
        if not name.isidentifier():
            return None
        # 'out: Optional[Tensor]' in a docstring means out=None
        value = None if "Optional" in annotation else inspect.Parameter.empty
        if eq:
            try:
                value = ast.literal_eval(default.strip())
            except (ValueError, SyntaxError):
                value = Unparsed(default.strip())
        params.append((name, "kw" if kw_only else "pos", value))
    return params


class Unparsed(str):
    """A default the docstring spells as an expression (torch.preserve_format): not passed."""


def signatures(obj, name: str) -> list[list[tuple[str, str, object]]]:
    """Every overload PyTorch documents for obj, as parse_params lists; [] if none can be read."""
    try:
        sig = inspect.signature(obj)
    except (TypeError, ValueError):
        sig = None
    if sig is not None and any(p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD) for p in sig.parameters.values()):
        params = []
        for p in sig.parameters.values():
            if p.kind == p.VAR_KEYWORD:
                continue
            kind = {p.VAR_POSITIONAL: VAR, p.KEYWORD_ONLY: "kw", p.POSITIONAL_ONLY: "posonly"}.get(p.kind, "pos")
            params.append((p.name, kind, p.default))
        if params and params[0][0] == "self":
            params = params[1:]
        return [params]
    found = []
    line_re = re.compile(rf"^\s*(?:\.\. \w+:: )?(?:[\w.]+\.)?{re.escape(name)}\((.*?)\)\s*(?:->.*)?$")
    for line in (getattr(obj, "__doc__", None) or "").splitlines()[:40]:
        m = line_re.match(line)
        if m:
            params = parse_params(m.group(1))
            if params is not None and params not in found:
                found.append(params)
    return found


def torch_signatures(space: str, name: str, obj):
    """signatures(obj), and those of its twin (Tensor.X for torch.X and back, input added or dropped): the
    docstrings of one of them are often out of date or missing."""
    import torch

    found = signatures(obj, name)
    if space == "torch" and hasattr(torch.Tensor, name):
        found += [
            [("input", "pos", inspect.Parameter.empty)] + p for p in signatures(getattr(torch.Tensor, name), name)
        ]
    if space == "Tensor" and callable(getattr(torch, name, None)):
        found += [[q for q in p if q[0] != "input"] for p in signatures(getattr(torch, name), name)]
    return [p for i, p in enumerate(found) if p not in found[:i]]


# ---------------------------------------------------------------------------------------------------------------
# Call templates: a value per parameter name, made for either library (lib is torch or ember).


def _t(shape, fill=None, dtype="float32"):
    import numpy as np

    n = int(np.prod(shape)) if shape else 1
    data = (np.arange(n, dtype=np.float64) % 7 + 1) / 8 if fill is None else np.full(n, fill, dtype=np.float64)
    data = data.reshape(shape)
    if len(shape) >= 2 and shape[-1] == shape[-2] and fill is None:  # symmetric positive definite: linalg works
        data = data @ np.swapaxes(data, -1, -2) + 4 * np.eye(shape[-1])
    return lambda lib: lib.tensor(data.tolist(), dtype=getattr(lib, dtype))


def scenario(shape):
    """The templates for one input shape: tensors of that shape, and what goes with them."""
    vec = (shape[-1],) if shape else ()
    tensor = _t(shape)
    return {
        **dict.fromkeys(
            "input other tensor tensor1 tensor2 x x1 x2 y a b A B mat mat1 mat2 exponent src source target "
            "elements test_elements weight end".split(),
            tensor,
        ),
        **dict.fromkeys("vec vec1 vec2 sorted_sequence boundaries".split(), _t(vec)),
        "tensors": lambda lib: [tensor(lib), tensor(lib)],
        "operands": tensor,
        "mask": _t(shape, 1, "bool"),
        "condition": _t(shape, 1, "bool"),
        "index": _t(shape, 0, "int64"),
        "indices": _t(shape, 0, "int64"),
        "dim": lambda lib: 0,
        "dim0": lambda lib: 0,
        "axis0": lambda lib: 0,
        "axis1": lambda lib: min(1, len(shape) - 1),
        "values": tensor,
        "dim1": lambda lib: min(1, len(shape) - 1),
        "dims": lambda lib: tuple(reversed(range(len(shape)))),
        "keepdim": lambda lib: True,
        "dtype": lambda lib: lib.float64,
        "size": lambda lib: shape,
        "shape": lambda lib: shape,
        "sizes": lambda lib: shape,
        "normalized_shape": lambda lib: vec,
        "equation": lambda lib: "...->...",
        "value": lambda lib: 1.0,
        "fill_value": lambda lib: 1.0,
        "threshold": lambda lib: 0.5,
        "min": lambda lib: 0.0,
        "max": lambda lib: 1.0,
        "k": lambda lib: 1,
        "q": lambda lib: 0.5,
        "p": lambda lib: 2,
        "n": lambda lib: 2,
        "chunks": lambda lib: 2,
        "sections": lambda lib: 2,
        "split_size": lambda lib: 2,
        "split_size_or_sections": lambda lib: 2,
        "repeats": lambda lib: 2,
        "start": lambda lib: 0,
        "length": lambda lib: 1,
        "shifts": lambda lib: 1,
        "source_dim": lambda lib: 0,
        "destination": lambda lib: 0,
        "reduce": lambda lib: "sum",
        "kernel_size": lambda lib: 2,
        "num_groups": lambda lib: 1,
        "pad": lambda lib: (1, 1),
        "data": lambda lib: [1.0, 2.0],
        "decimals": lambda lib: 0,
        "steps": lambda lib: 4,
        "low": lambda lib: 0,
        "high": lambda lib: 4,
        "obj": tensor,
        # image-shaped inputs (see images()): resampling and shuffling factors
        "output_size": lambda lib: 2,
        "upscale_factor": lambda lib: 2,
        "downscale_factor": lambda lib: 2,
        "groups": lambda lib: 2,
        "scale_factor": lambda lib: 2.0,
        "num_samples": lambda lib: 2,
        "row": lambda lib: 3,
        "col": lambda lib: 3,
        "window_length": lambda lib: 4,
        "maxnorm": lambda lib: 1.0,
        "indices_or_sections": lambda lib: 2,
    }


def numbers(shape):
    """scenario(shape), where index/start/end take numbers (select, narrow, linspace, arange)."""
    return {
        **scenario(shape),
        "index": lambda lib: 0,
        "start": lambda lib: 0.0,
        "end": lambda lib: 4.0,
        "n": lambda lib: 3,
    }


def integers(shape):
    """scenario(shape) with integer tensors (the bitwise ops)."""
    t = _t(shape, dtype="int64")
    return {**scenario(shape), **{k: t for k in ("input", "other", "tensor", "x", "y", "a", "b")}}


def images(shape):
    """scenario(shape) for (N, C, H, W[, D]) inputs: a weight of the same shape convolves them to one value."""
    return scenario(shape)


TEMPLATES = [
    scenario((4, 4)),
    scenario((4,)),
    scenario((2, 4, 4)),
    numbers((4, 4)),
    integers((4, 4)),
    images((1, 4, 4, 4)),
    images((1, 4, 2, 2, 2)),
]
NUMPY_ALIASES = {"dim": "axis", "keepdim": "keepdims"}


def plans(params, templates):
    """Ways to call with these parameters: (positional names, {keyword: maker}); optional parameters take their
    documented default first, then the template where one exists. None where a required one has no template."""
    required = [p for p in params if p[2] is inspect.Parameter.empty]
    if any(name not in templates for name, _, _ in required):
        return []
    out = []
    # Docstrings say 'm=None' or 'out=None' where the binding takes no None: plans without them follow.
    for use_template, skip_none in ((False, False), (True, False), (False, True), (True, True)):
        kwargs, positional = {}, []
        for name, kind, default in params:
            if kind == VAR:
                positional += [name]
            elif kind == "posonly":
                if default is inspect.Parameter.empty:
                    positional.append(name)
            elif default is inspect.Parameter.empty or (use_template and name in templates):
                kwargs[name] = templates[name]
            elif not isinstance(default, Unparsed) and not (skip_none and default is None):
                kwargs[name] = (lambda d: lambda lib: d)(default)
        if (positional, kwargs) not in out:
            out.append((positional, kwargs))
    return out


def call(lib, space: str, name: str, template, positional, kwargs, lead=()):
    """Calls name of lib's namespace (or method of a template tensor) with the made arguments; lead: makers of
    arguments passed positionally after those named in positional."""
    if space == "Tensor":
        fn = getattr(template["input"](lib), name)
    else:
        fn = getattr(resolve(lib.__name__ + ("" if space == "torch" else "." + space)), name)
    args = [template[p](lib) for p in positional] + [make(lib) for make in lead]
    return fn(*args, **{k: make(lib) for k, make in kwargs.items()})


def check_calls(space: str, name: str, torch_obj):
    """(keywords ember accepted, keywords ember refused, note) for one function ember has."""
    import torch

    sigs = torch_signatures(space, name, torch_obj)
    if not sigs:
        return [], [], "not checked: no signature"
    accepted, refused, tried = set(), set(), False
    for params in sigs:
        if space == "Tensor":
            params = [p for p in params if p[0] not in ("input", "self")]
        for template in TEMPLATES:
            ok = False
            for positional, kwargs in plans(params, template):
                variants = [kwargs]
                if any(k in kwargs for k in NUMPY_ALIASES):
                    variants.append({NUMPY_ALIASES.get(k, k): v for k, v in kwargs.items()})
                for i, kw in enumerate(variants):
                    try:
                        call(torch, space, name, template, positional, kw)
                    except Exception:
                        continue
                    ok, tried = ok or i == 0, True
                    bad = ember_refuses(space, name, template, positional, kw)
                    refused |= bad
                    accepted |= set(kw) - bad
                if ok:
                    break
            if ok:
                break
    if not tried:
        return [], [], "not checked: no template call PyTorch accepts"
    return sorted(accepted - refused), sorted(refused), ""


def ember_refuses(space, name, template, positional, kwargs) -> set[str]:
    """The keywords ember refuses (TypeError) in a call PyTorch took; any other error counts as taking the call:
    values are not this check's business. A refusal no keyword explains is '(call)'."""
    import ember

    def refuses(kw, lead=()):
        try:
            call(ember, space, name, template, positional, kw, lead)
        except TypeError:
            return True
        except Exception:
            return False
        return False

    if not refuses(kwargs):
        return set()
    # One keyword whose removal makes the call pass; else those outside every overload ember documents.
    for k in kwargs:
        if not refuses({key: v for key, v in kwargs.items() if key != k}):
            return {k}
    home = ember.Tensor if space == "Tensor" else resolve("ember" + ("" if space == "torch" else "." + space))
    known = {p[0] for params in signatures(getattr(home, name), name) for p in params}
    unknown = {k for k in kwargs if known and k not in known}
    if unknown and not refuses({key: v for key, v in kwargs.items() if key not in unknown}):
        return unknown
    # A required parameter ember takes only by position (or names otherwise): pass the first m positionally.
    names = list(kwargs)
    for m in range(1, len(names) + 1):
        if not refuses({k: kwargs[k] for k in names[m:]}, [kwargs[k] for k in names[:m]]):
            return {k for k in names[:m] if k in unknown} or {names[m - 1]}
    return {"(call)"}


# ---------------------------------------------------------------------------------------------------------------


def survey():
    """{namespace title: [(name, status, keywords, note)]} for every namespace, in order."""
    import ember  # noqa: F401  (ember's submodules resolve through it)

    result = {}
    for title, torch_spec, ember_spec in NAMESPACES:
        tns, ens = resolve(torch_spec), resolve(ember_spec)
        rows = []
        for name in public_names(tns):
            if ens is not None and hasattr(ens, name):
                keywords, refused, note = [], [], ""
                obj = getattr(tns, name)
                if title in CALL_CHECKED and callable(obj) and not inspect.isclass(obj):
                    with warnings.catch_warnings():
                        warnings.simplefilter("ignore")
                        keywords, refused, note = check_calls(title, name, obj)
                if refused:
                    note = "not accepted: " + ", ".join(f"`{k}`" for k in refused)
                rows.append((name, "yes", keywords, note))
            elif (reason := exclusion(name)) is not None:
                rows.append((name, "excluded", [], reason))
            else:
                rows.append((name, "no", [], ""))
        result[title] = rows
    return result


def counts(rows):
    yes = sum(r[1] == "yes" for r in rows)
    excl = sum(r[1] == "excluded" for r in rows)
    return len(rows), yes, len(rows) - yes - excl, excl


def pct(yes, total, excl):
    return f"{100 * yes / max(total - excl, 1):.1f}%"


def summary_line(result) -> str:
    """The totals, one line (the README shows it)."""
    total, yes, _, excl = (sum(c) for c in zip(*(counts(r) for r in result.values())))
    core = [counts(result[t]) for t in CORE]
    ctotal, cyes, _, cexcl = (sum(c) for c in zip(*core))
    return (
        f"ember has {yes} of PyTorch's {total - excl} public names in scope ({pct(yes, total, excl)}; "
        f"{excl} more excluded with a reason); torch, Tensor, nn, nn.functional, optim, autograd and utils.data: "
        f"{cyes} of {ctotal - cexcl} ({pct(cyes, ctotal, cexcl)})."
    )


def render(result) -> str:
    import torch

    mismatched = sum(1 for rows in result.values() for r in rows if r[3].startswith("not accepted"))
    lines = [
        "# PyTorch API coverage",
        "",
        f"Generated by `python tools/api_coverage.py` against PyTorch {torch.__version__.split('+')[0]}; "
        "`tests/test_api_coverage.py` fails when it is out of date. Do not edit by hand.",
        "",
        summary_line(result),
        "",
        "A name is *yes* when ember's counterpart has it, *excluded* when ember lacks it and it belongs to a part",
        "of PyTorch out of ember's scope (the reason is given), *no* otherwise; how the public names are chosen is",
        "the docstring of `tools/api_coverage.py`. For functions and Tensor methods ember has, *keywords checked*",
        "lists the keywords (PyTorch's, and numpy's `axis`/`keepdims` where PyTorch takes them) that ember",
        "accepted in a call PyTorch accepted; a keyword ember refuses is in the note.",
        f"Names with a keyword mismatch: {mismatched}.",
        "",
        "| namespace | names | yes | no | excluded | covered (of not excluded) |",
        "|---|---|---|---|---|---|",
    ]
    for title, rows in result.items():
        total, yes, no, excl = counts(rows)
        lines.append(
            f"| [{title}](#{title.replace('.', '')}) | {total} | {yes} | {no} | {excl} | {pct(yes, total, excl)} |"
        )
    total, yes, no, excl = (sum(c) for c in zip(*(counts(r) for r in result.values())))
    lines.append(f"| **all** | {total} | {yes} | {no} | {excl} | {pct(yes, total, excl)} |")
    for title, rows in result.items():
        module = dict((t, s) for t, s, _ in NAMESPACES)[title].replace(":", ".")
        lines += [
            "",
            f"## {title}",
            "",
            f"`{module}`",
            "",
            "| name | ember | keywords checked | note |",
            "|---|---|---|---|",
        ]
        for name, status, keywords, note in rows:
            kw = ", ".join(f"`{k}`" for k in keywords)
            lines.append(f"| `{name}` | {status} | {kw} | {note} |")
    return "\n".join(lines) + "\n"


def parse(text: str) -> dict[str, list[tuple[str, str, list[str], str]]]:
    """The tables of a docs/api-coverage.md back as {namespace: [(name, status, keywords, note)]}."""
    result, title = {}, None
    for line in text.splitlines():
        if line.startswith("## "):
            title = line[3:].strip()
            result[title] = []
        elif title and line.startswith("| `"):
            cells = [c.strip() for c in line.strip("|").split(" | ")]
            name, status, kw, note = (cells + ["", "", "", ""])[:4]
            result[title].append((name.strip("`"), status, re.findall(r"`([^`]+)`", kw), note))
    return result


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--check", action="store_true", help="exit 1 if docs/api-coverage.md is not current")
    args = ap.parse_args(argv)
    text = render(survey())
    if args.check:
        old = OUT.read_text() if OUT.exists() else ""
        if old != text:
            diff = list(
                difflib.unified_diff(old.splitlines(), text.splitlines(), "committed", "regenerated", n=0, lineterm="")
            )
            print(f"{OUT.name} is stale ({len(diff)} diff lines); run python tools/api_coverage.py", file=sys.stderr)
            print("\n".join(diff[:60]), file=sys.stderr)
            return 1
        return 0
    OUT.write_text(text)
    print(f"wrote {OUT}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
