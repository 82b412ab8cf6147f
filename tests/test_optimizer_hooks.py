"""Optimizer hooks, as torch.optim.Optimizer's: step pre/post hooks (per optimizer and global), state_dict and
load_state_dict hooks, their order, handles, pickling, and one run per outermost step; compared with PyTorch's
calls when PyTorch is importable."""

from __future__ import annotations

import importlib
import pickle

import pytest

import ember


def _record_hooks(lib, opt, log):
    module = importlib.import_module(f"{lib.__name__}.optim.optimizer")
    handles = [
        module.register_optimizer_step_pre_hook(lambda o, a, k: log.append(("global pre", len(a), k))),
        module.register_optimizer_step_post_hook(lambda o, a, k: log.append(("global post", len(a), k))),
        opt.register_step_pre_hook(lambda o, a, k: log.append(("pre", len(a), k))),
        opt.register_step_post_hook(lambda o, a, k: log.append(("post", len(a), k))),
        opt.register_state_dict_pre_hook(lambda o: log.append("sd pre")),
        opt.register_state_dict_pre_hook(lambda o: log.append("sd pre first"), prepend=True),
        opt.register_state_dict_post_hook(lambda o, sd: log.append(("sd post", sorted(sd)))),
        opt.register_load_state_dict_pre_hook(lambda o, sd: log.append(("load pre", sorted(sd)))),
        opt.register_load_state_dict_post_hook(lambda o: log.append("load post")),
    ]
    return handles


def _run(lib):
    p = lib.nn.Parameter(lib.ones(2))
    opt = lib.optim.Adam([p], lr=0.1)
    log = []
    handles = _record_hooks(lib, opt, log)
    try:
        p.grad = lib.ones(2)
        opt.step()
        opt.step(closure=None)
        opt.load_state_dict(opt.state_dict())
        handles[0].remove()
        with handles[2]:
            pass  # a handle is a context manager that removes its hook
        opt.step()
    finally:
        for h in handles:
            h.remove()
    opt.step()
    return log, p.detach().tolist()


def test_hooks_run_in_pytorchs_order_and_handles_remove_them():
    log, _ = _run(ember)
    assert log[:4] == [("global pre", 1, {}), ("pre", 1, {}), ("post", 1, {}), ("global post", 1, {})]
    assert log[4:8] == [("global pre", 1, {"closure": None}), ("pre", 1, {"closure": None}),
                        ("post", 1, {"closure": None}), ("global post", 1, {"closure": None})]  # fmt: skip
    assert log[8:12] == ["sd pre first", "sd pre", ("sd post", ["param_groups", "state"]),
                         ("load pre", ["param_groups", "state"])]  # fmt: skip
    assert log[12:] == ["load post", ("post", 1, {}), ("global post", 1, {})]


def test_hooks_match_pytorch():
    torch = pytest.importorskip("torch")
    assert _run(ember) == _run(torch)


def test_pre_hook_may_replace_arguments_and_post_hook_sees_them():
    p = ember.nn.Parameter(ember.ones(1))
    opt = ember.optim.SGD([p], lr=1.0)
    seen = []
    opt.register_step_pre_hook(lambda o, args, kwargs: (args, {"closure": lambda: 7.0}))
    opt.register_step_post_hook(lambda o, args, kwargs: seen.append(sorted(kwargs)))
    p.grad = ember.ones(1)
    assert opt.step() == 7.0 and seen == [["closure"]]
    opt.register_step_pre_hook(lambda o, args, kwargs: "bad")
    with pytest.raises(RuntimeError, match="must return None or a tuple of \\(new_args, new_kwargs\\), but got bad"):
        opt.step()


def test_state_dict_hooks_may_replace_the_dict():
    p = ember.nn.Parameter(ember.ones(1))
    opt = ember.optim.SGD([p], lr=0.5)
    opt.register_state_dict_post_hook(lambda o, sd: {**sd, "extra": 1})
    assert opt.state_dict()["extra"] == 1
    given = opt.state_dict()
    opt.register_load_state_dict_pre_hook(lambda o, sd: {k: v for k, v in sd.items() if k != "extra"})
    opt.load_state_dict(given)
    assert "extra" in given  # the pre-hook got a shallow copy


def _subclass_calling_super_step(lib):
    class Wrapped(lib.optim.SGD):
        def step(self, closure=None):
            return super().step(closure)

    p = lib.nn.Parameter(lib.ones(1))
    lib.optim.SGD([p], lr=0.1)  # SGD's own step is patched once an SGD exists
    opt = Wrapped([p], lr=0.1)
    calls = []
    opt.register_step_post_hook(lambda o, a, k: calls.append(1))
    p.grad = lib.ones(1)
    opt.step()
    return calls, bool(Wrapped.step.hooked)


def test_each_class_step_is_patched_so_super_step_runs_the_hooks_again_as_pytorch():
    assert _subclass_calling_super_step(ember) == ([1, 1], True)


def test_subclass_hooks_match_pytorch():
    torch = pytest.importorskip("torch")
    assert _subclass_calling_super_step(ember) == _subclass_calling_super_step(torch)


def test_a_library_optimizer_may_patch_its_step_itself():
    class Custom(ember.optim.Optimizer):  # as pytorch_optimizer's Magma and PCGrad: they call the patch again
        def __init__(self, params):
            super().__init__(params, {"lr": 0.1})
            self._patch_step_function()

        def step(self, closure=None):
            for group in self.param_groups:
                for q in group["params"]:
                    q.data.sub_(group["lr"] * q.grad)

    p = ember.nn.Parameter(ember.ones(1))
    opt = Custom([p])
    calls = []
    opt.register_step_pre_hook(lambda o, a, k: calls.append(1))
    p.grad = ember.ones(1)
    opt.step()
    assert calls == [1] and abs(p.item() - 0.9) < 1e-7
    assert opt._zero_grad_profile_name == "Optimizer.zero_grad#Custom.zero_grad"


def test_unpickled_optimizer_has_empty_hooks_and_still_steps():
    p = ember.nn.Parameter(ember.ones(1))
    opt = ember.optim.SGD([p], lr=0.1)
    opt.register_step_pre_hook(print)
    again = pickle.loads(pickle.dumps(opt))
    assert len(again._optimizer_step_pre_hooks) == 0 and len(again._optimizer_load_state_dict_post_hooks) == 0
    groups = ember.optim.Optimizer._group_tensors_by_device_and_dtype(
        [[ember.ones(1), ember.ones(1, dtype=ember.float64)]]
    )
    assert sorted(str(k[1]) for k in groups) == ["ember.float32", "ember.float64"]
