"""ember.utils._pytree, as ``torch.utils._pytree``: flattening nested containers into their leaves and back.

Tuples, lists, dicts (in insertion order), OrderedDicts, defaultdicts and namedtuples are nodes;
``register_pytree_node`` adds a type; everything else (None too, as PyTorch's) is a leaf."""

from __future__ import annotations

import collections
import dataclasses
from typing import Any, Callable, Iterable, NamedTuple

__all__ = [
    "SUPPORTED_NODES", "GetAttrKey", "KeyPath", "LeafSpec", "MappingKey", "PyTree", "SequenceKey", "TreeSpec",
    "keystr", "register_pytree_node", "tree_all", "tree_any", "tree_flatten", "tree_flatten_with_path",
    "tree_leaves", "tree_leaves_with_path", "tree_map", "tree_map_", "tree_map_only", "tree_map_with_path",
    "tree_structure", "tree_unflatten",
]  # fmt: skip


PyTree = Any


class NodeDef(NamedTuple):
    type: Any
    flatten_fn: Callable[[Any], tuple[list[Any], Any]]  # node -> (children, context)
    unflatten_fn: Callable[[Iterable[Any], Any], Any]  # (children, context) -> node
    flatten_with_keys_fn: Callable[[Any], tuple[list[tuple[Any, Any]], Any]] | None = None  # (key, child) pairs


# The keys of a path to a leaf (tree_flatten_with_path): an index, a mapping key, an attribute.
@dataclasses.dataclass(frozen=True)
class SequenceKey:
    idx: int

    def __str__(self) -> str:
        return f"[{self.idx!r}]"

    def get(self, sequence: Any) -> Any:
        return sequence[self.idx]


@dataclasses.dataclass(frozen=True)
class MappingKey:
    key: Any

    def __str__(self) -> str:
        return f"[{self.key!r}]"

    def get(self, mapping: Any) -> Any:
        return mapping[self.key]


@dataclasses.dataclass(frozen=True)
class GetAttrKey:
    name: str

    def __str__(self) -> str:
        return f".{self.name}"

    def get(self, obj: Any) -> Any:
        return getattr(obj, self.name)


KeyPath = tuple
# PyTorch's annotation aliases, which libraries import for their own flatten functions' signatures.
Context = Any
DumpableContext = Any
PyTree = Any
KeyEntry = Any
FlattenFunc = Callable[[PyTree], tuple[list[Any], Context]]
UnflattenFunc = Callable[[Iterable[Any], Context], PyTree]
FlattenWithKeysFunc = Callable[[PyTree], tuple[list[tuple[KeyEntry, Any]], Any]]
ToDumpableContextFn = Callable[[Context], DumpableContext]
FromDumpableContextFn = Callable[[DumpableContext], Context]


def keystr(kp: KeyPath) -> str:
    """A key path as the Python that reaches its leaf: ``['a'][1].x``."""
    return "".join(str(k) for k in kp)


def _dict_flatten_with_keys(d: Any) -> tuple[list[tuple[Any, Any]], Any]:
    """A mapping's children keyed by MappingKey (the flatten_with_keys_fn libraries register with)."""
    return [(MappingKey(k), v) for k, v in d.items()], list(d.keys())


def _seq_flatten_with_keys(t: Any) -> tuple[list[tuple[Any, Any]], Any]:
    return [(SequenceKey(i), v) for i, v in enumerate(t)], None


def _namedtuple_flatten_with_keys(t: Any) -> tuple[list[tuple[Any, Any]], Any]:
    return [(GetAttrKey(f), getattr(t, f)) for f in t._fields], type(t)


# the node types, as PyTorch's registry (namedtuples under the key collections.namedtuple)
SUPPORTED_NODES: dict[Any, NodeDef] = {}


def register_pytree_node(cls: type, flatten_fn: Callable, unflatten_fn: Callable, *,
                         serialized_type_name: str | None = None, to_dumpable_context: Any = None,
                         from_dumpable_context: Any = None, flatten_with_keys_fn: Any = None) -> None:  # fmt: skip
    """Makes ``cls`` a node: ``flatten_fn(node) -> (children, context)``, ``unflatten_fn(children, context)``;
    ``flatten_with_keys_fn(node) -> ([(key, child), ...], context)`` for tree_flatten_with_path."""
    if cls in SUPPORTED_NODES:
        raise ValueError(f"{cls} is already registered as pytree node.")
    SUPPORTED_NODES[cls] = NodeDef(cls, flatten_fn, unflatten_fn, flatten_with_keys_fn)


def _dict_flatten(d: Any) -> tuple[list[Any], Any]:
    """A mapping's children and context (its keys), the flatten_fn libraries register mappings with."""
    return list(d.values()), list(d.keys())


def _dict_unflatten(values: Iterable[Any], keys: Any) -> dict:
    return dict(zip(keys, values))


# The built-in nodes' functions under PyTorch's private names, which libraries register their own
# containers with (tensordict: register_pytree_node(LinkedList, _list_flatten, _list_unflatten, ...)).
def _seq_flatten(t: Any) -> tuple[list[Any], Any]:
    """A tuple's or list's children, with no context."""
    return list(t), None


def _tuple_unflatten(values: Iterable[Any], context: Any) -> tuple:
    return tuple(values)


def _list_unflatten(values: Iterable[Any], context: Any) -> list:
    return list(values)


def _ordereddict_unflatten(values: Iterable[Any], keys: Any) -> collections.OrderedDict:
    return collections.OrderedDict(zip(keys, values))


def _defaultdict_flatten(d: Any) -> tuple[list[Any], Any]:
    return list(d.values()), (d.default_factory, list(d.keys()))


def _defaultdict_unflatten(values: Iterable[Any], context: Any) -> collections.defaultdict:
    return collections.defaultdict(context[0], zip(context[1], values))


def _defaultdict_flatten_with_keys(d: Any) -> tuple[list[tuple[Any, Any]], Any]:
    return _dict_flatten_with_keys(d)[0], (d.default_factory, list(d.keys()))


def _namedtuple_flatten(t: Any) -> tuple[list[Any], Any]:
    return list(t), type(t)


def _namedtuple_unflatten(values: Iterable[Any], cls: Any) -> Any:
    return cls(*values)


_tuple_flatten = _list_flatten = _seq_flatten
_tuple_flatten_with_keys = _list_flatten_with_keys = _seq_flatten_with_keys
_ordereddict_flatten, _ordereddict_flatten_with_keys = _dict_flatten, _dict_flatten_with_keys

register_pytree_node(tuple, _tuple_flatten, _tuple_unflatten, flatten_with_keys_fn=_tuple_flatten_with_keys)
register_pytree_node(list, _list_flatten, _list_unflatten, flatten_with_keys_fn=_list_flatten_with_keys)
register_pytree_node(dict, _dict_flatten, _dict_unflatten, flatten_with_keys_fn=_dict_flatten_with_keys)
register_pytree_node(
    collections.OrderedDict,
    _ordereddict_flatten,
    _ordereddict_unflatten,
    flatten_with_keys_fn=_ordereddict_flatten_with_keys,
)
register_pytree_node(
    collections.defaultdict,
    _defaultdict_flatten,
    _defaultdict_unflatten,
    flatten_with_keys_fn=_defaultdict_flatten_with_keys,
)
register_pytree_node(
    collections.namedtuple,
    _namedtuple_flatten,
    _namedtuple_unflatten,
    flatten_with_keys_fn=_namedtuple_flatten_with_keys,
)


def is_namedtuple_class(cls: type) -> bool:
    """Whether cls is a namedtuple class (a tuple subclass with ``_fields``)."""
    return isinstance(cls, type) and issubclass(cls, tuple) and isinstance(getattr(cls, "_fields", None), tuple)


def is_namedtuple_instance(obj: Any) -> bool:
    return is_namedtuple_class(type(obj))


def is_namedtuple(obj: Any) -> bool:
    """Whether obj is a namedtuple class or instance."""
    return is_namedtuple_class(obj if isinstance(obj, type) else type(obj))


def is_structseq_class(cls: type) -> bool:
    """Whether cls is a structseq: a tuple type made in C with named fields (os.stat_result, PyTorch's
    return types), which counts its fields in ``n_fields``/``n_sequence_fields``/``n_unnamed_fields``."""
    return (
        isinstance(cls, type)
        and issubclass(cls, tuple)
        and all(isinstance(getattr(cls, a, None), int) for a in ("n_fields", "n_sequence_fields", "n_unnamed_fields"))
    )


def is_structseq_instance(obj: Any) -> bool:
    return is_structseq_class(type(obj))


def is_structseq(obj: Any) -> bool:
    """Whether obj is a structseq class or instance."""
    return is_structseq_class(obj if isinstance(obj, type) else type(obj))


_is_namedtuple_instance = is_namedtuple_instance


def _get_node_type(tree: Any) -> Any:
    """The registry key of ``tree``'s type: collections.namedtuple for a namedtuple, else its type."""
    if isinstance(tree, tuple) and hasattr(tree, "_fields") and type(tree) not in SUPPORTED_NODES:
        return collections.namedtuple
    return type(tree)


def _node_def(tree: Any) -> NodeDef | None:
    return SUPPORTED_NODES.get(_get_node_type(tree))


class TreeSpec:
    """The structure of a pytree: its node type, context and children's specs (a leaf: ``LeafSpec``)."""

    def __init__(self, type: Any, context: Any, children_specs: list[TreeSpec]) -> None:  # noqa: A002
        self.type, self.context, self.children_specs = type, context, children_specs
        self.num_leaves = sum(c.num_leaves for c in children_specs)

    @property
    def num_children(self) -> int:
        return len(self.children_specs)

    def is_leaf(self) -> bool:
        return False

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, TreeSpec)
            and other.is_leaf() == self.is_leaf()
            and (self.type, self.context, self.children_specs) == (other.type, other.context, other.children_specs)
        )

    def __repr__(self) -> str:
        return f"TreeSpec({getattr(self.type, '__name__', self.type)}, {self.context}, {self.children_specs})"

    def unflatten(self, leaves: Iterable[Any]) -> Any:
        return tree_unflatten(leaves, self)


class LeafSpec(TreeSpec):
    """The spec of one leaf."""

    def __init__(self) -> None:
        super().__init__(None, None, [])
        self.num_leaves = 1

    def is_leaf(self) -> bool:
        return True

    def __repr__(self) -> str:
        return "*"


def _flatten(tree: Any, leaves: list[Any], is_leaf: Callable[[Any], bool] | None) -> TreeSpec:
    node = None if is_leaf is not None and is_leaf(tree) else _node_def(tree)
    if node is None:
        leaves.append(tree)
        return LeafSpec()
    children, context = node.flatten_fn(tree)
    specs = [_flatten(child, leaves, is_leaf) for child in children]
    return TreeSpec(node.type, context, specs)


def tree_is_leaf(tree: Any, is_leaf: Callable[[Any], bool] | None = None) -> bool:
    """Whether tree is a leaf: no registered node type (or one is_leaf says is a leaf)."""
    if is_leaf is not None and is_leaf(tree):
        return True
    return _node_def(tree) is None


def _broadcast_to_and_flatten(
    tree: Any, treespec: TreeSpec, is_leaf: Callable[[Any], bool] | None = None
) -> list[Any] | None:
    """tree, a prefix of treespec's structure (vmap's in_dims: 0 for every leaf, or (0, None) per argument),
    as one value per leaf of treespec; None when it is not such a prefix."""
    if treespec.is_leaf():
        return [tree]
    node = None if is_leaf is not None and is_leaf(tree) else _node_def(tree)
    if node is None:  # a leaf of the prefix stands for every leaf below it
        return [tree] * treespec.num_leaves
    if _get_node_type(tree) != treespec.type:
        return None
    children, context = node.flatten_fn(tree)
    if len(children) != len(treespec.children_specs) or context != treespec.context:
        return None
    flat: list[Any] = []
    for child, spec in zip(children, treespec.children_specs):
        part = _broadcast_to_and_flatten(child, spec, is_leaf)
        if part is None:
            return None
        flat.extend(part)
    return flat


def tree_flatten(tree: Any, is_leaf: Callable[[Any], bool] | None = None) -> tuple[list[Any], TreeSpec]:
    """The leaves of ``tree``, left to right, and its structure."""
    leaves: list[Any] = []
    return leaves, _flatten(tree, leaves, is_leaf)


def _flatten_with_path(tree: Any, path: KeyPath, out: list[tuple[KeyPath, Any]], is_leaf: Any) -> None:
    node = None if is_leaf is not None and is_leaf(tree) else _node_def(tree)
    if node is None:
        out.append((path, tree))
        return
    if node.flatten_with_keys_fn is None:
        raise ValueError(
            f"Did not find a flatten_with_keys_fn for type: {node.type}. Please pass a flatten_with_keys_fn "
            "argument to register_pytree_node."
        )
    keyed, _ = node.flatten_with_keys_fn(tree)
    for key, child in keyed:
        _flatten_with_path(child, (*path, key), out, is_leaf)


def tree_flatten_with_path(
    tree: Any, is_leaf: Callable[[Any], bool] | None = None
) -> tuple[list[tuple[KeyPath, Any]], TreeSpec]:
    """The leaves of ``tree`` with the key path to each (``(MappingKey('a'), SequenceKey(0))``), and its
    structure."""
    out: list[tuple[KeyPath, Any]] = []
    _flatten_with_path(tree, (), out, is_leaf)
    return out, tree_structure(tree, is_leaf)


def tree_leaves_with_path(tree: Any, is_leaf: Callable[[Any], bool] | None = None) -> list[tuple[KeyPath, Any]]:
    return tree_flatten_with_path(tree, is_leaf)[0]


def tree_map_with_path(
    func: Callable[..., Any], tree: Any, *rests: Any, is_leaf: Callable[[Any], bool] | None = None
) -> Any:
    """``func(path, leaf, *other_leaves)`` at every leaf, in ``tree``'s structure."""
    keyed, spec = tree_flatten_with_path(tree, is_leaf)
    others = [_leaves_like(r, spec, is_leaf) for r in rests]
    return tree_unflatten([func(path, leaf, *xs) for (path, leaf), *xs in zip(keyed, *others)], spec)


def tree_leaves(tree: Any, is_leaf: Callable[[Any], bool] | None = None) -> list[Any]:
    return tree_flatten(tree, is_leaf)[0]


def tree_structure(tree: Any, is_leaf: Callable[[Any], bool] | None = None) -> TreeSpec:
    return tree_flatten(tree, is_leaf)[1]


def tree_unflatten(leaves: Iterable[Any], treespec: TreeSpec) -> Any:
    """The tree of ``treespec``'s structure with ``leaves`` in its places."""
    if not isinstance(treespec, TreeSpec):
        raise TypeError(
            f"tree_unflatten(leaves, treespec): Expected `treespec` to be instance of TreeSpec but got item of "
            f"type {type(treespec)}."
        )
    leaves = list(leaves)
    if len(leaves) != treespec.num_leaves:
        raise ValueError(
            f"treespec.unflatten(leaves): `leaves` has length {len(leaves)} but the spec refers to a pytree that "
            f"holds {treespec.num_leaves} items ({treespec})."
        )
    position = iter(leaves)

    def build(spec: TreeSpec) -> Any:
        if spec.is_leaf():
            return next(position)
        children = [build(child) for child in spec.children_specs]
        return SUPPORTED_NODES[spec.type].unflatten_fn(children, spec.context)

    return build(treespec)


def tree_map(func: Callable[..., Any], tree: Any, *rests: Any, is_leaf: Callable[[Any], bool] | None = None) -> Any:
    """``func`` applied to each leaf (and the matching leaves of ``rests``, trees of the same structure)."""
    leaves, spec = tree_flatten(tree, is_leaf)
    others = [spec_leaves for spec_leaves in (_leaves_like(r, spec, is_leaf) for r in rests)]
    return tree_unflatten([func(*xs) for xs in zip(leaves, *others)], spec)


def _leaves_like(tree: Any, spec: TreeSpec, is_leaf: Callable[[Any], bool] | None) -> list[Any]:
    leaves, other = tree_flatten(tree, is_leaf)
    if other != spec:
        raise ValueError(f"tree_map: the trees' structures differ: {spec} and {other}")
    return leaves


def tree_map_(func: Callable[..., Any], tree: Any, *rests: Any, is_leaf: Callable[[Any], bool] | None = None) -> Any:
    """``func`` called on each leaf for its effect; returns ``tree``."""
    leaves, spec = tree_flatten(tree, is_leaf)
    for xs in zip(leaves, *(_leaves_like(r, spec, is_leaf) for r in rests)):
        func(*xs)
    return tree


def tree_map_only(type_or_types: Any, func: Callable[[Any], Any], tree: Any,
                  is_leaf: Callable[[Any], bool] | None = None) -> Any:  # fmt: skip
    """``func`` applied to the leaves of the given type(s), the others kept."""
    return tree_map(lambda x: func(x) if isinstance(x, type_or_types) else x, tree, is_leaf=is_leaf)


def tree_all(pred: Callable[[Any], bool], tree: Any, is_leaf: Callable[[Any], bool] | None = None) -> bool:
    return all(map(pred, tree_leaves(tree, is_leaf)))


def tree_any(pred: Callable[[Any], bool], tree: Any, is_leaf: Callable[[Any], bool] | None = None) -> bool:
    return any(map(pred, tree_leaves(tree, is_leaf)))
