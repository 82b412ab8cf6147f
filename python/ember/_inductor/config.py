"""ember._inductor.config, as ``torch._inductor.config``: the settings scripts write and read back, with
``patch``; they change nothing in ember, which compiles nothing."""

from __future__ import annotations

import sys
import types

from .._config_module import patch_function

coordinate_descent_tuning = False
max_autotune = False
max_autotune_gemm = False
epilogue_fusion = True
freezing = False
fx_graph_cache = True
force_fuse_int_mm_with_mul = False
use_mixed_mm = True
emulate_precision_casts = False
compile_threads = 1
fallback_random = False
debug = False
triton = types.SimpleNamespace(
    unique_kernel_names=False, cudagraphs=False, cudagraph_trees=True, descriptive_names="original_aten"
)
cpp = types.SimpleNamespace(threads=-1, simdlen=None, enable_kernel_profile=False)

patch = patch_function(sys.modules[__name__], "torch._inductor.config")
