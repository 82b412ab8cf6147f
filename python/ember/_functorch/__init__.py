"""``torch._functorch``: the module paths libraries import vmap's helpers from (ember's transforms live in
ember.func)."""

from . import vmap  # noqa: F401
