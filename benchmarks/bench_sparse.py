"""Sparse tensors: ember beside PyTorch and numpy.

ember's sparse COO and CSR tensors hold index and value tensors and run their products as an index_select,
a multiply and an index_add (so gradients reach the values); PyTorch has dedicated sparse kernels. This
measures what that costs on a graph network's typical use: a normalised adjacency matrix times node
features, forward and backward. numpy's column is the same product on a dense adjacency matrix (np.dot), for
scale. Each library runs in a process of its own.

    python benchmarks/bench_sparse.py [--quick] [--json PATH]

Times are microseconds per call: the median over repeats.
"""

import numpy as np
from _harness import run_benchmark

RNG = np.random.default_rng(0)


def _graph(nodes, degree):
    """Indices (2, nnz) and values of a random graph's adjacency, each row averaged over its edges."""
    rows = np.repeat(np.arange(nodes), degree)
    cols = RNG.integers(0, nodes, size=nodes * degree)
    values = np.full(nodes * degree, 1.0 / degree, dtype=np.float32)
    return np.stack([rows, cols]), values


def _adjacency(lib, nodes, degree):
    indices, values = _graph(nodes, degree)
    return lib.sparse_coo_tensor(lib.tensor(indices), lib.tensor(values), (nodes, nodes)).coalesce()


def _dense_adjacency(nodes, degree):
    indices, values = _graph(nodes, degree)
    dense = np.zeros((nodes, nodes), dtype=np.float32)
    np.add.at(dense, (indices[0], indices[1]), values)
    return dense


def spmm_small(lib):
    a = _adjacency(lib, 1000, 8)
    x = lib.tensor(RNG.standard_normal((1000, 64)).astype(np.float32))
    return lambda: lib.sparse.mm(a, x)


def np_spmm_small():
    a, x = _dense_adjacency(1000, 8), RNG.standard_normal((1000, 64)).astype(np.float32)
    return lambda: a @ x


def spmm_large(lib):
    a = _adjacency(lib, 20000, 10)
    x = lib.tensor(RNG.standard_normal((20000, 64)).astype(np.float32))
    return lambda: lib.sparse.mm(a, x)


def gcn_layer_fwd_bwd(lib):
    """One graph-convolution layer (adjacency @ (features @ weight)), 5000 nodes, degree 10, 64 -> 32, with
    the backward to the weight."""
    a = _adjacency(lib, 5000, 10)
    x = lib.tensor(RNG.standard_normal((5000, 64)).astype(np.float32))
    w = lib.tensor(RNG.standard_normal((64, 32)).astype(np.float32) * 0.1, requires_grad=True)

    def run():
        lib.sparse.mm(a, x @ w).relu().sum().backward()

    return run


def to_dense_coalesce(lib):
    indices, values = _graph(2000, 8)
    i, v = lib.tensor(indices), lib.tensor(values)
    return lambda: lib.sparse_coo_tensor(i, v, (2000, 2000)).coalesce()


CASES = [
    ("sparse.mm, 1k nodes x 8 edges, 64 features", spmm_small, np_spmm_small),
    ("sparse.mm, 20k nodes x 10 edges, 64 features", spmm_large, None),
    ("GCN layer, 5k nodes, fwd+bwd", gcn_layer_fwd_bwd, None),
    ("sparse_coo_tensor + coalesce, 16k entries", to_dense_coalesce, None),
]


def main(argv=None):
    return run_benchmark(__doc__, CASES, argv, quick=(0.05, 5), full=(0.2, 7))


if __name__ == "__main__":
    main()
