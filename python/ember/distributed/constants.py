"""ember.distributed.constants, as ``torch.distributed.constants``: the default timeout of a process group."""

from ._process_group import default_pg_timeout

__all__ = ["default_pg_init_method", "default_pg_timeout"]

default_pg_init_method = "env://"
