"""import ember.as_torch: `import torch` in code written for PyTorch then gives ember (checked in a child
process, so this process's modules stay as they are)."""

import subprocess
import sys
import textwrap


def run(code: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True, timeout=120)


def test_a_library_written_for_torch_runs_on_ember():
    result = run(
        """
        import ember.as_torch
        import torch
        import torch.nn.functional as F
        from torch.utils.data import DataLoader, TensorDataset
        from torch import nn
        import torch.distributed.nn
        import ember
        assert torch.Tensor is ember.Tensor and F is ember.nn.functional and nn is ember.nn
        assert torch.torch is torch  # PyTorch's module names itself (kornia writes torch.torch.Tensor)
        import importlib.metadata, importlib.util
        # the package metadata and the import spec say what torch.__version__ says, PyTorch installed or not
        assert importlib.metadata.version("torch") == "2.13.0" and importlib.util.find_spec("torch") is not None
        # libraries choose their code paths by PyTorch's version: the one ember's API follows
        assert torch.__version__ == "2.13.0" and torch.__version__ >= "2.4" and not torch.__version__ < "2.10"
        assert ember.__version__ != torch.__version__
        model = nn.Linear(3, 1)
        opt = torch.optim.SGD(model.parameters(), lr=0.1)
        for x, y in DataLoader(TensorDataset(torch.randn(8, 3), torch.randn(8, 1)), batch_size=4):
            opt.zero_grad(); F.mse_loss(model(x), y).backward(); opt.step()
        try:
            import torch.not_a_module
        except ModuleNotFoundError as e:
            print("missing:", e.name)
        # a library that picks its backend by an array's defining module (autoray) sees PyTorch's names
        assert type(torch.zeros(1)).__module__ == "torch"
        import pickle
        copy = pickle.loads(pickle.dumps(model))
        assert type(copy.weight) is nn.Parameter and torch.equal(copy.weight, model.weight)
        print("ok", type(model.weight).__module__)
        """
    )
    assert result.returncode == 0, result.stderr
    assert "missing: torch.not_a_module" in result.stdout and "ok torch.nn.parameter" in result.stdout


def test_after_pytorch_itself_it_refuses():
    result = run(
        """
        import sys, types
        sys.modules["torch"] = types.ModuleType("torch")  # PyTorch imported first
        try:
            import ember.as_torch
        except ImportError as e:
            print(e)
        """
    )
    assert "PyTorch is imported already; import ember.as_torch before anything imports torch" in result.stdout


def test_vars_of_torch_lists_the_dtypes():
    """lovely-tensors looks dtypes up as vars(torch)["float32"]."""
    result = run(
        """
        import ember.as_torch
        import torch
        assert vars(torch)["float32"] is torch.float32 and vars(torch)["bool"] is torch.bool
        torch.some_setting = 3  # writes still go to ember
        import ember
        assert ember.some_setting == 3
        print("ok")
        """
    )
    assert result.stdout.strip() == "ok", result.stderr


def test_names_print_as_torchs_under_as_torch():
    """Note [Printed module name]: libraries compare these strings (PyG: str(layout) == 'torch.sparse_coo',
    x.type() == 'torch.FloatTensor'); plain ember prints its own name."""
    done = run(
        """
        import ember
        plain = [str(ember.float32), repr(ember.Size([2])), ember.zeros(1).type()]
        import ember.as_torch
        import torch
        x = torch.zeros(2, dtype=torch.float64)
        print(plain)
        print([str(torch.float32), repr(torch.Size([2])), str(torch.sparse_coo), str(torch.channels_last),
               x.type(), torch.typename(x), repr(x), repr(torch.sort(x)).split("(")[0]])
        """
    )
    assert done.returncode == 0, done.stderr
    plain, printed = done.stdout.splitlines()
    assert plain == "['ember.float32', 'ember.Size([2])', 'ember.FloatTensor']"
    assert printed == (
        "['torch.float32', 'torch.Size([2])', 'torch.sparse_coo', 'torch.channels_last', 'torch.DoubleTensor', "
        "'torch.DoubleTensor', 'tensor([0., 0.], dtype=torch.float64)', 'torch.return_types.sort']"
    )
