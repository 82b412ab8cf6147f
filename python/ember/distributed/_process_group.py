"""Process groups on MPI communicators: init_process_group, new_group, ranks, and the launcher's environment.

MPI (through mpi4py) is imported on the first init_process_group, never at ``import ember``: a program that
does not train data-parallel pays nothing for it.
"""

from __future__ import annotations

import enum
import os
import sys
import time
import warnings
from datetime import timedelta
from typing import Any

__all__ = [
    "Backend",
    "breakpoint",
    "DebugLevel",
    "DistBackendError",
    "DistError",
    "DistNetworkError",
    "DistStoreError",
    "QueueEmptyError",
    "get_debug_level",
    "get_default_backend_for_device",
    "get_node_local_rank",
    "get_pg_count",
    "is_backend_available",
    "is_ucc_available",
    "is_xccl_available",
    "new_subgroups_by_enumeration",
    "set_debug_level",
    "set_debug_level_from_env",
    "shrink_group",
    "split_group",
    "supports_complex",
    "GroupMember",
    "ProcessGroup",
    "destroy_process_group",
    "get_backend",
    "get_global_rank",
    "get_group_rank",
    "get_process_group_ranks",
    "get_rank",
    "get_world_size",
    "group",
    "init_process_group",
    "is_available",
    "is_gloo_available",
    "is_initialized",
    "is_mpi_available",
    "is_nccl_available",
    "is_torchelastic_launched",
    "new_group",
    "new_subgroups",
]

# As PyTorch's default_pg_timeout: how long a collective waits for the other ranks before it raises.
default_pg_timeout = timedelta(minutes=30)

# (rank, world size, local rank, local world size) as each MPI launcher names them: Open MPI, MPICH's and
# Intel MPI's Hydra, MVAPICH.
_LAUNCHER_VARIABLES = (
    ("OMPI_COMM_WORLD_RANK", "OMPI_COMM_WORLD_SIZE", "OMPI_COMM_WORLD_LOCAL_RANK", "OMPI_COMM_WORLD_LOCAL_SIZE"),
    ("PMI_RANK", "PMI_SIZE", "MPI_LOCALRANKID", "MPI_LOCALNRANKS"),
    ("MV2_COMM_WORLD_RANK", "MV2_COMM_WORLD_SIZE", "MV2_COMM_WORLD_LOCAL_RANK", "MV2_COMM_WORLD_LOCAL_SIZE"),
)


def _export_launcher_environment() -> None:
    """Under mpiexec, sets RANK, WORLD_SIZE, LOCAL_RANK and LOCAL_WORLD_SIZE (when unset) from the MPI
    launcher's variables, as torchrun sets them: scripts that read os.environ["LOCAL_RANK"] before
    init_process_group run unchanged."""
    for names in _LAUNCHER_VARIABLES:
        values = [os.environ.get(name) for name in names]
        if values[0] is not None and values[1] is not None:
            for key, value in zip(("RANK", "WORLD_SIZE", "LOCAL_RANK", "LOCAL_WORLD_SIZE"), values):
                if value is not None:
                    os.environ.setdefault(key, value)
            return


def is_available() -> bool:
    """True when mpi4py is installed (``pip install "ember[distributed]"``); it is imported only on first use."""
    import importlib.util

    return importlib.util.find_spec("mpi4py") is not None


def is_mpi_available() -> bool:
    """ember's only backend is MPI: the same as is_available()."""
    return is_available()


def is_gloo_available() -> bool:
    """False: ember runs on MPI, not Gloo (init_process_group(backend="mpi"))."""
    return False


def is_nccl_available() -> bool:
    """False: ember runs on MPI, not NCCL."""
    return False


def is_ucc_available() -> bool:
    """False: ember runs on MPI, not UCC."""
    return False


def is_xccl_available() -> bool:
    """False: ember runs on MPI, not XCCL."""
    return False


def is_backend_available(backend: str) -> bool:
    """Whether `backend` can be used: only "mpi", when mpi4py is installed."""
    return str(backend).lower() == Backend.MPI and is_available()


def get_default_backend_for_device(device: Any) -> str:
    """ "mpi" for the CPU, ember's only distributed device."""
    if str(device).split(":")[0] != "cpu":
        raise ValueError(f"ember.distributed has no backend for device {device!r}; it runs on the CPU over MPI")
    return Backend.MPI


def get_node_local_rank(fallback_rank: int | None = None) -> int:
    """This process's rank on its machine: LOCAL_RANK (set under mpiexec, see _export_launcher_environment),
    else fallback_rank, else RuntimeError."""
    if "LOCAL_RANK" in os.environ:
        return int(os.environ["LOCAL_RANK"])
    if fallback_rank is not None:
        return int(fallback_rank)
    raise RuntimeError(
        "LOCAL_RANK is not in the environment. Consider passing fallback_rank to allow `get_node_local_rank` to "
        "work, assuming you are not running in a multi-device context and want the code to run locally instead."
    )


class DistError(RuntimeError):
    """Base of the errors ember.distributed raises, as torch.distributed.DistError."""


class DistBackendError(DistError):
    """A collective failed or timed out."""


class DistStoreError(DistError):
    """A key-value store failed (ember has none: MPI does the rendezvous)."""


class DistNetworkError(DistError):
    """The network failed."""


class QueueEmptyError(DistStoreError):
    """A store's queue was empty."""


def supports_complex(reduceOp: Any) -> bool:  # noqa: N803  (PyTorch's keyword name)
    """Whether the reduction is defined for complex tensors (not MAX, MIN, PRODUCT or the bitwise ones)."""
    return getattr(reduceOp, "name", str(reduceOp)) not in ("MAX", "MIN", "PRODUCT", "BAND", "BOR", "BXOR")


class DebugLevel(enum.Enum):
    """TORCH_DISTRIBUTED_DEBUG's levels; ember keeps the setting, its collectives always check their arguments."""

    OFF = 0
    INFO = 1
    DETAIL = 2


_debug_level = [DebugLevel.OFF]


def get_debug_level() -> DebugLevel:
    return _debug_level[0]


def set_debug_level(level: DebugLevel) -> None:
    _debug_level[0] = DebugLevel(level)


def set_debug_level_from_env() -> None:
    """Reads TORCH_DISTRIBUTED_DEBUG (OFF, INFO or DETAIL)."""
    value = os.environ.get("TORCH_DISTRIBUTED_DEBUG", "OFF").upper()
    if value not in DebugLevel.__members__:
        raise ValueError(f"TORCH_DISTRIBUTED_DEBUG must be OFF, INFO or DETAIL, got {value!r}")
    _debug_level[0] = DebugLevel[value]


def get_pg_count() -> int:
    """How many process groups have been created, the default one included."""
    return _State.created


def is_torchelastic_launched() -> bool:
    """True under torchrun/torchelastic (TORCHELASTIC_RUN_ID set), as PyTorch; ember itself runs under mpiexec."""
    return os.environ.get("TORCHELASTIC_RUN_ID") is not None


class Backend(str):
    """A backend name, as torch.distributed.Backend: ``Backend("mpi") == Backend.MPI == "mpi"``."""

    UNDEFINED = "undefined"
    GLOO = "gloo"
    NCCL = "nccl"
    UCC = "ucc"
    MPI = "mpi"

    def __new__(cls, name: str) -> Backend:
        if not isinstance(name, str):
            raise ValueError(f"Backend name must be a string, but got: {name}")
        return super().__new__(cls, name.lower())


class ProcessGroup:
    """The ranks of one MPI communicator: what ``group=`` takes. ``rank()`` and ``size()`` are this process's
    rank in the group and the group's size; ``ranks`` the members' global ranks, in group order."""

    def __init__(self, comm: Any, ranks: list[int], timeout: timedelta) -> None:
        self.comm = comm
        self.ranks = ranks
        self.timeout = timeout

    def rank(self) -> int:
        return self.comm.Get_rank()

    def size(self) -> int:
        return self.comm.Get_size()

    def name(self) -> str:
        return Backend.MPI

    def __repr__(self) -> str:
        return f"ProcessGroup(backend='mpi', ranks={self.ranks})"


class GroupMember:
    """GroupMember.WORLD is the default group once initialised; new_group gives NON_GROUP_MEMBER to the
    ranks it leaves out, as PyTorch."""

    WORLD: ProcessGroup | None = None
    NON_GROUP_MEMBER = -100


class group:  # noqa: N801  (PyTorch's name: dist.group.WORLD)
    """``group.WORLD``: the default process group."""

    WORLD: ProcessGroup | None = None


_UNINITIALISED = "Default process group has not been initialized, please make sure to call init_process_group."


class _State:
    groups: list[ProcessGroup] = []  # the groups this rank belongs to
    created = 0  # every group created, as PyTorch counts them (those this rank is not in included)
    previous_excepthook: Any = None


_MPI: Any = None  # the mpi4py.MPI module, once imported


def _mpi() -> Any:
    global _MPI
    if _MPI is None:
        try:
            from mpi4py import MPI
        except ImportError as e:
            raise RuntimeError(
                "ember.distributed needs mpi4py and an MPI library: pip install 'ember[distributed]' (mpi4py and "
                "the mpich wheels, no compiler needed)"
            ) from e
        _MPI = MPI
    return _MPI


def _set_world(pg: ProcessGroup | None) -> None:
    group.WORLD = GroupMember.WORLD = pg


def is_initialized() -> bool:
    """True between init_process_group and destroy_process_group."""
    return GroupMember.WORLD is not None


def _world() -> ProcessGroup:
    if GroupMember.WORLD is None:
        raise ValueError(_UNINITIALISED)
    return GroupMember.WORLD


def _resolve(pg: ProcessGroup | None) -> ProcessGroup:
    """The group a collective runs on (the default one for None); ValueError before init_process_group."""
    world = _world()
    if pg is None:
        return world
    if not isinstance(pg, ProcessGroup):
        raise TypeError(f"group must be a ProcessGroup returned by new_group, got {type(pg).__name__}")
    return pg


def _member(pg: Any, op: str) -> ProcessGroup | None:
    """The group, or None (with PyTorch's warning) on a rank that new_group left out."""
    if pg is GroupMember.NON_GROUP_MEMBER:
        warnings.warn(
            f"Running {op} on global rank {get_rank()} which does not belong to the given group.", stacklevel=3
        )
        return None
    return _resolve(pg)


def _abort_on_uncaught_exception(exc_type: Any, exc: Any, tb: Any) -> None:
    """An uncaught exception on one rank ends the whole job: the others would otherwise wait forever in their
    next collective. The traceback prints first; MPI_Abort then makes mpiexec stop every rank."""
    _State.previous_excepthook(exc_type, exc, tb)
    sys.stderr.flush()
    sys.stdout.flush()
    # mpiexec forwards each rank's output through its proxies; aborting at once could kill them before the
    # traceback reached the terminal (seen with MPICH's Hydra: an empty output, 1 run in 6).
    time.sleep(0.5)
    _mpi().COMM_WORLD.Abort(1)


def _check_launch(mpi_size: int, mpi_rank: int, world_size: int, rank: int) -> None:
    """The sizes the script or the environment expect must be MPI's: a script started with torchrun or python
    instead of mpiexec is told how to launch."""
    for name, wanted, actual in (
        ("world_size", world_size, mpi_size),
        ("rank", rank, mpi_rank),
        ("WORLD_SIZE", int(os.environ.get("WORLD_SIZE", -1)), mpi_size),
        ("RANK", int(os.environ.get("RANK", -1)), mpi_rank),
    ):
        if wanted != -1 and wanted != actual:
            raise RuntimeError(
                f"init_process_group: {name}={wanted}, but MPI started this process as rank {mpi_rank} of "
                f"{mpi_size}. ember's ranks come from MPI: launch with mpiexec -n N python script.py"
            )


def init_process_group(
    backend: str | None = None,
    init_method: str | None = None,
    timeout: timedelta | None = None,
    world_size: int = -1,
    rank: int = -1,
    store: Any = None,
    group_name: str = "",
    pg_options: Any = None,
    device_id: Any = None,
) -> None:
    """Joins the MPI job as the default process group; every rank calls it.

    backend is "mpi" (or None); ranks and world size come from MPI (mpiexec -n N). init_method, store,
    group_name and pg_options are accepted and not needed: MPI does the rendezvous that MASTER_ADDR or a
    tcp:// address do for Gloo. world_size, rank and the RANK/WORLD_SIZE variables, when given, must agree
    with MPI. timeout bounds every collective's wait (default 30 minutes). An uncaught exception on any rank
    then aborts the job, so the other ranks never wait forever.
    """
    if is_initialized():
        raise RuntimeError("trying to initialize the default process group twice!")
    if backend is not None and Backend(backend) != Backend.MPI:
        raise ValueError(
            f"ember.distributed runs on MPI: backend {backend!r} is not available. Use "
            "init_process_group(backend='mpi') and launch with mpiexec -n N python script.py"
        )
    if device_id is not None and str(device_id) != "cpu":
        raise ValueError(f"init_process_group: ember's process groups are on the CPU, got device_id={device_id!r}")
    mpi = _mpi()
    world = mpi.COMM_WORLD
    _check_launch(world.Get_size(), world.Get_rank(), world_size, rank)
    comm = world.Dup()  # a communicator of its own: the user's own mpi4py messages never meet ember's
    pg = ProcessGroup(comm, list(range(comm.Get_size())), timeout or default_pg_timeout)
    _set_world(pg)
    _State.groups, _State.created = [pg], 1
    if pg.size() > 1 and _State.previous_excepthook is None:
        _State.previous_excepthook = sys.excepthook
        sys.excepthook = _abort_on_uncaught_exception


def destroy_process_group(group: ProcessGroup | None = None) -> None:  # noqa: F811  (PyTorch's keyword name)
    """Frees a group's communicator; with no group, every group and the default one (is_initialized() is then
    False and init_process_group may run again)."""
    pg = group
    if pg is GroupMember.NON_GROUP_MEMBER:
        return
    if pg is not None and pg is not GroupMember.WORLD:
        pg = _resolve(pg)
        pg.comm.Free()
        _State.groups.remove(pg)
        return
    _world()
    for member in _State.groups:
        member.comm.Free()
    _State.groups, _State.created = [], 0
    _set_world(None)
    if _State.previous_excepthook is not None:
        sys.excepthook, _State.previous_excepthook = _State.previous_excepthook, None


def get_rank(group: ProcessGroup | None = None) -> int:  # noqa: F811  (PyTorch's keyword name)
    """This process's rank in the group (the default group for None); -1 on a rank the group leaves out."""
    if group is GroupMember.NON_GROUP_MEMBER:
        return -1
    return _resolve(group).rank()


def get_world_size(group: ProcessGroup | None = None) -> int:  # noqa: F811
    """The number of ranks in the group (the default group for None); -1 on a rank the group leaves out."""
    if group is GroupMember.NON_GROUP_MEMBER:
        return -1
    return _resolve(group).size()


def get_backend(group: ProcessGroup | None = None) -> Backend:  # noqa: F811
    """Backend.MPI, the backend of every ember group."""
    _resolve(group)
    return Backend(Backend.MPI)


def get_process_group_ranks(group: ProcessGroup | None) -> list[int]:  # noqa: F811
    """The global ranks of the group's members, in group-rank order."""
    return list(_resolve(group).ranks)


def get_global_rank(group: ProcessGroup | None, group_rank: int) -> int:  # noqa: F811
    """The global rank of the group's rank `group_rank`."""
    ranks = _resolve(group).ranks
    if not 0 <= group_rank < len(ranks):
        raise ValueError(f"Group rank {group_rank} is not part of group {ranks}")
    return ranks[group_rank]


def get_group_rank(group: ProcessGroup | None, global_rank: int) -> int:  # noqa: F811
    """The rank inside the group of the process with global rank `global_rank`."""
    ranks = _resolve(group).ranks
    if global_rank not in ranks:
        raise ValueError(f"Global rank {global_rank} is not part of group {ranks}")
    return ranks.index(global_rank)


def _group_rank(pg: ProcessGroup, global_rank: int | None, group_rank: int | None, name: str) -> int:
    """The root of a rooted collective as a rank of `pg`, from PyTorch's pair of keywords (src/group_src,
    dst/group_dst): exactly one of them."""
    if global_rank is not None and group_rank is not None:
        raise ValueError(f"Can not specify both {name} and group_{name}")
    if group_rank is not None:
        if not 0 <= group_rank < pg.size():
            raise ValueError(f"group_{name}={group_rank} is not a rank of a group of {pg.size()}")
        return group_rank
    if global_rank is None:
        raise ValueError(f"Must specify either {name} or group_{name}")
    return get_group_rank(pg, global_rank)


def new_group(
    ranks: list[int] | None = None,
    timeout: timedelta | None = None,
    backend: str | None = None,
    pg_options: Any = None,
    use_local_synchronization: bool = False,
    group_desc: str | None = None,
    device_id: Any = None,
    sort_ranks: bool = True,
) -> Any:
    """A group of some of the ranks (all of them for None); every rank of the default group calls it, as in
    PyTorch. Ranks left out get GroupMember.NON_GROUP_MEMBER."""
    world = _world()
    if backend is not None and Backend(backend) != Backend.MPI:
        raise ValueError(f"new_group: ember's groups run on MPI, backend {backend!r} is not available")
    members = list(range(world.size())) if ranks is None else [int(r) for r in ranks]
    if sort_ranks:
        members.sort()
    if len(set(members)) != len(members) or any(not 0 <= r < world.size() for r in members):
        raise ValueError(
            f"new_group: ranks must be distinct ranks of the default group (0..{world.size() - 1}), got {ranks}"
        )
    comm = world.comm.Create(world.comm.Get_group().Incl(members))
    _State.created += 1
    if comm == _mpi().COMM_NULL:
        return GroupMember.NON_GROUP_MEMBER
    pg = ProcessGroup(comm, members, timeout or world.timeout)
    _State.groups.append(pg)
    return pg


def new_subgroups(group_size: int | None = None, group: Any = None, **kwargs: Any) -> tuple[Any, list[Any]]:  # noqa: F811
    """Splits the default group into consecutive groups of group_size ranks (the ranks of this machine for
    None): (this rank's subgroup, all subgroups), as PyTorch."""
    world = _world()
    if group_size is None:
        group_size = int(os.environ.get("LOCAL_WORLD_SIZE", world.size()))
    if group_size <= 0 or world.size() % group_size != 0:
        raise ValueError(f"new_subgroups: the world size {world.size()} is not divisible by group_size {group_size}")
    subgroups, mine = [], None
    for start in range(0, world.size(), group_size):
        pg = new_group(list(range(start, start + group_size)), **kwargs)
        subgroups.append(pg)
        if pg is not GroupMember.NON_GROUP_MEMBER:
            mine = pg
    return mine, subgroups


def new_subgroups_by_enumeration(
    ranks_per_subgroup_list: list[list[int]], timeout: timedelta | None = None, **kwargs: Any
) -> tuple[Any, list[Any]]:
    """One group per list of ranks (each rank in at most one): (this rank's subgroup or None, all subgroups)."""
    seen: set[int] = set()
    for ranks in ranks_per_subgroup_list:
        if seen & set(ranks):
            raise ValueError(f"Rank {sorted(seen & set(ranks))[0]} has appeared in multiple subgroups.")
        seen |= set(ranks)
    subgroups, mine = [], None
    for ranks in ranks_per_subgroup_list:
        pg = new_group(ranks, timeout=timeout, **kwargs)
        subgroups.append(pg)
        if pg is not GroupMember.NON_GROUP_MEMBER:
            mine = pg
    return mine, subgroups


def _subgroup(parent: ProcessGroup, comm: Any, members: list[int]) -> ProcessGroup | None:
    _State.created += 1
    if comm == _mpi().COMM_NULL:
        return None
    pg = ProcessGroup(comm, members, parent.timeout)
    _State.groups.append(pg)
    return pg


def split_group(
    parent_pg: ProcessGroup | None = None,
    split_ranks: list[list[int]] | None = None,
    timeout: timedelta | None = None,
    pg_options: Any = None,
    group_desc: str | None = None,
    backend: str | None = None,
) -> ProcessGroup | None:
    """Splits parent_pg into disjoint groups of the global ranks of each list of split_ranks (one MPI_Comm_split,
    every rank of the parent calls it); returns this rank's group, or None when no list holds it."""
    parent = _resolve(parent_pg)
    if not split_ranks:
        raise ValueError("split_ranks cannot be None or empty")
    mine, seen = None, set()
    for color, ranks in enumerate(split_ranks):
        if seen & set(ranks) or any(r not in parent.ranks for r in ranks):
            raise ValueError(f"split_group: split_ranks must be disjoint lists of the parent's ranks {parent.ranks}")
        seen |= set(ranks)
        if parent.ranks[parent.rank()] in ranks:
            mine = (color, sorted(ranks))
    mpi = _mpi()
    color, members = mine if mine is not None else (mpi.UNDEFINED, [])
    key = members.index(parent.ranks[parent.rank()]) if mine is not None else 0
    return _subgroup(parent, parent.comm.Split(color, key), members)


def shrink_group(
    ranks_to_exclude: list[int], group: ProcessGroup | None = None, shrink_flags: int = 0, pg_options: Any = None
) -> ProcessGroup:  # noqa: F811
    """A new group of `group`'s ranks (the default group's for None) without ranks_to_exclude (ranks of that
    group). Only the ranks that stay call it: MPI_Comm_create_group involves the new group's members only, so
    the excluded ranks may be gone."""
    parent = _resolve(group)
    excluded = set(ranks_to_exclude)
    if not excluded or any(not 0 <= r < parent.size() for r in excluded):
        raise ValueError(f"shrink_group: ranks_to_exclude must be ranks of the group (0..{parent.size() - 1})")
    if parent.rank() in excluded:
        raise ValueError(f"shrink_group: rank {parent.rank()} is excluded and must not call it")
    keep = [r for r in range(parent.size()) if r not in excluded]
    comm = parent.comm.Create_group(parent.comm.Get_group().Incl(keep))
    return _subgroup(parent, comm, [parent.ranks[r] for r in keep])


_breakpoint_hits: dict[tuple[str, int], int] = {}


def breakpoint(rank: int = 0, skip: int = 0, timeout_s: float = 3600) -> None:  # noqa: A001  (PyTorch's name)
    """Stops in pdb on one rank; the others wait (up to timeout_s) at a barrier until it continues. The first
    `skip` calls from the same line do not stop."""
    import inspect as _inspect
    import pdb

    caller = _inspect.stack()[1]
    site = (caller.filename, caller.lineno)
    _breakpoint_hits[site] = _breakpoint_hits.get(site, 0) + 1
    if _breakpoint_hits[site] <= skip:
        return
    if get_rank() == rank:
        pdb.Pdb().set_trace(sys._getframe(1))
    from ._collectives import barrier

    barrier(timeout=timedelta(seconds=timeout_s))
