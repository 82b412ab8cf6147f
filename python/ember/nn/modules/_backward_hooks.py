"""Module full backward hooks (register_full_backward_hook / register_full_backward_pre_hook).

As PyTorch's BackwardHook: the module's tensor inputs and outputs pass through an identity
custom Function each (BackwardHookFunctionBackward nodes). The outputs' node sees grad_output
first and runs the pre-hooks (which may replace it); the inputs' node sees grad_input and runs
the hooks, hook(module, grad_input, grad_output), which may replace grad_input. When no input
requires grad, the hooks run with grad_input all None once grad_output is known.
"""

from __future__ import annotations

import warnings
from typing import Any

from ... import _C
from ...autograd.function import Function


class BackwardHookFunction(Function):
    """Identity on its tensors; the hooks live on its node (BackwardHookFunctionBackward)."""

    @staticmethod
    def forward(ctx: Any, *tensors: Any) -> Any:
        ctx.mark_non_differentiable(*[t for t in tensors if not t.requires_grad])
        return tensors

    @staticmethod
    def backward(ctx: Any, *grads: Any) -> Any:
        return grads


class BackwardHook:
    """One forward call's worth of backward-hook bookkeeping."""

    def __init__(self, module: Any, hooks: list[Any], pre_hooks: list[Any]) -> None:
        self.module = module
        self.hooks = hooks
        self.pre_hooks = pre_hooks
        self.grad_output: tuple[Any, ...] | None = None
        self.n_inputs = 0
        self.input_requires_grad = False

    def _replace(self, hook_kind: str, what: str, new: Any, old: tuple[Any, ...]) -> tuple[Any, ...]:
        new = new if isinstance(new, tuple) else (new,)
        if len(new) != len(old):
            raise RuntimeError(
                f"Backward {hook_kind}returned an invalid number of {what}, got {len(new)}, but expected {len(old)}"
            )
        return new

    def _on_grad_output(self, grads: tuple[Any, ...]) -> tuple[Any, ...]:
        """Pre-hook of the outputs' node: runs the module's pre-hooks, keeps grad_output."""
        for hook in self.pre_hooks:
            result = hook(self.module, grads)
            if result is not None:
                grads = self._replace("pre hook ", "grad_output", result, grads)
        self.grad_output = grads
        if not self.input_requires_grad and self.hooks:
            warnings.warn(
                "Full backward hook is firing when gradients are computed with respect to module outputs since no "
                "inputs require gradients. See https://docs.pytorch.org/docs/main/generated/torch.nn.Module.html"
                "#torch.nn.Module.register_full_backward_hook for more details.",
                stacklevel=2,
            )
            for hook in self.hooks:
                if hook(self.module, (None,) * self.n_inputs, grads) is not None:
                    raise RuntimeError(
                        "Backward hook for Modules where no input requires gradient should always return None or "
                        "None for all gradients."
                    )
            self.grad_output = None
        return grads

    def _on_grad_input(self, grads: tuple[Any, ...], _incoming: Any) -> tuple[Any, ...] | None:
        """Post-hook of the inputs' node: runs the module's hooks with grad_input and grad_output."""
        if self.grad_output is None:
            # The gradient reached the inputs without passing the outputs (double backward):
            # the hooks do not run, as in PyTorch.
            return None
        for hook in self.hooks:
            result = hook(self.module, grads, self.grad_output)
            if result is not None:
                grads = self._replace("hook ", "grad_input", result, grads)
        self.grad_output = None  # the graph must not keep it (nor, through it, itself)
        return grads

    @staticmethod
    def _wrap(values: tuple[Any, ...], positions: list[int], register: Any) -> tuple[Any, ...]:
        """values with those at `positions` passed through one BackwardHookFunction, whose node
        `register` gets."""
        wrapped = BackwardHookFunction.apply(*[values[i] for i in positions])
        register(next(w.grad_fn for w in wrapped if w.grad_fn is not None))
        out = list(values)
        for i, w in zip(positions, wrapped):
            out[i] = w
        return tuple(out)

    def wrap_inputs(self, args: tuple[Any, ...]) -> tuple[Any, ...]:
        positions = [i for i, a in enumerate(args) if isinstance(a, _C.Tensor)]
        self.n_inputs = len(positions)
        self.input_requires_grad = any(args[i].requires_grad for i in positions)
        if not (self.input_requires_grad and _C.is_grad_enabled()):
            return args
        return self._wrap(args, positions, lambda node: node.register_hook(self._on_grad_input))

    def wrap_outputs(self, result: Any) -> Any:
        single = isinstance(result, _C.Tensor)
        outs = (result,) if single else result
        if not isinstance(outs, tuple) or not _C.is_grad_enabled():
            return result
        positions = [i for i, o in enumerate(outs) if isinstance(o, _C.Tensor) and o.requires_grad]
        if not positions:
            return result
        out = self._wrap(outs, positions, lambda node: node.register_prehook(self._on_grad_output))
        return out[0] if single else out
