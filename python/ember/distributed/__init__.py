"""ember.distributed: data-parallel training across processes and machines on MPI, with torch.distributed's API.

Launch N processes with ``mpiexec -n N python train.py`` and call ``init_process_group(backend="mpi")``;
collectives (all_reduce, broadcast, all_gather, reduce_scatter, ...) run as MPI operations on the tensors'
own memory, and ``ember.nn.parallel.DistributedDataParallel`` averages gradients during backward. Needs
mpi4py and an MPI library: ``pip install "ember[distributed]"``. See the README's "Distributed training".
"""

from . import constants, device_mesh, nn, rpc  # noqa: F401  (torch.distributed.constants, .device_mesh, .nn, .rpc)
from ._collectives import *  # noqa: F403
from ._collectives import RedOpType
from ._collectives import __all__ as _collectives_all
from ._objects import *  # noqa: F403
from ._objects import __all__ as _objects_all
from ._process_group import *  # noqa: F403
from ._process_group import __all__ as _process_group_all
from ._process_group import _export_launcher_environment, default_pg_timeout
from ._work import Work

# Under mpiexec, RANK/WORLD_SIZE/LOCAL_RANK/LOCAL_WORLD_SIZE are there from the start, as under torchrun.
_export_launcher_environment()

__all__ = [*_collectives_all, *_objects_all, *_process_group_all, "RedOpType", "Work", "default_pg_timeout"]
