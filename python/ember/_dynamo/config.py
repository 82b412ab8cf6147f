"""ember._dynamo.config, as ``torch._dynamo.config``: the settings scripts write and read back (and
``import torch._dynamo.config`` as a module), with ``patch`` to change some for a block or a function. They
change nothing in ember, which compiles nothing; an unknown name raises PyTorch's AttributeError."""

from __future__ import annotations

import sys

from .._config_module import patch_function

suppress_errors = False
cache_size_limit = 8
accumulated_cache_size_limit = 256
recompile_limit = 8
accumulated_recompile_limit = 256
verbose = False
capture_scalar_outputs = False
capture_dynamic_output_shape_ops = False
optimize_ddp = True
automatic_dynamic_shapes = True
assume_static_by_default = True
force_parameter_static_shapes = True
inline_inbuilt_nn_modules = True
specialize_int = False
guard_nn_modules = False
error_on_recompile = False
skip_fwd_side_effects_in_bwd_under_checkpoint = False
allow_unspec_int_on_nn_module = False
replay_record_enabled = False
compiled_autograd = False

patch = patch_function(sys.modules[__name__], "torch._dynamo.config")
