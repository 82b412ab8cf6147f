"""A walk through the PyTorch autograd tutorial, run with ember.

    python -m ember.demo

The only change from the PyTorch version is the import line below. Each
section prints what it computed and checks it against the value worked out
by hand, so the demo doubles as a smoke test of an installed ember.
"""

from __future__ import annotations

from typing import Any

import ember as torch


def heading(title: str) -> None:
    """Print a section title."""
    print()
    print(f"== {title} ==")


def gradients_of_a_small_graph() -> None:
    """Section 1: backward() on a scalar, then on the sum of a vector expression."""
    heading("1. Gradients of a small graph")
    x = torch.tensor(2.0, requires_grad=True)
    z = x * x * 3  # z = 3x^2, so dz/dx = 6x = 12 at x = 2
    z.backward()
    print("x      =", x)
    print("z      =", z)
    print("dz/dx  =", x.grad)
    assert abs(x.grad.item() - 12.0) < 1e-6

    # The same with a vector: y = sum(x^2 + 3x), dy/dx = 2x + 3.
    x = torch.tensor([1.0, 2.0, 3.0], requires_grad=True)
    y = (x * x + 3 * x).sum()
    y.backward()
    print("x      =", x)
    print("dy/dx  =", x.grad, "(expected 2x + 3 = [5, 7, 9])")
    assert x.grad.tolist() == [5.0, 7.0, 9.0]


def vector_jacobian_product() -> None:
    """Section 2: backward(v) on a non-scalar output gives the vector-Jacobian product."""
    heading("2. A vector-Jacobian product")
    x = torch.randn(3, requires_grad=True)
    y = x * 2
    doublings = 1
    while y.norm() < 1000:  # data-dependent control flow is fine
        y = y * 2
        doublings += 1
    print("y      =", y)
    # y is not a scalar, so backward needs the vector v in v^T . J.
    # Here J = 2^k * I, so x.grad = 2^k * v.
    v = torch.tensor([0.1, 1.0, 0.0001])
    y.backward(v)
    print(f"x.grad = {x.grad}  (v * 2**{doublings})")
    expected = [vi * 2.0**doublings for vi in v.tolist()]
    assert all(abs(g - e) <= 1e-5 * abs(e) for g, e in zip(x.grad.tolist(), expected))


class Exp(torch.autograd.Function):
    """exp(x), written by hand; its backward reuses the saved output."""

    @staticmethod
    def forward(ctx: Any, x: torch.Tensor) -> torch.Tensor:
        """exp(x), saving the result for backward."""
        result = x.exp()
        ctx.save_for_backward(result)
        return result

    @staticmethod
    def backward(ctx: Any, grad_output: torch.Tensor) -> torch.Tensor:
        """The derivative of exp is exp itself: the saved result times grad_output."""
        (result,) = ctx.saved_tensors
        return grad_output * result


def custom_function() -> None:
    """Section 3: a custom autograd.Function, checked with gradcheck."""
    heading("3. A custom autograd.Function")
    x = torch.randn(4, dtype=torch.float64, requires_grad=True)
    y = Exp.apply(x)
    y.sum().backward()
    print("Exp(x)      =", y.detach())
    print("d/dx sum    =", x.grad, "(equals Exp(x))")
    assert all(abs(g - e) < 1e-12 for g, e in zip(x.grad.tolist(), y.tolist()))

    # gradcheck compares backward with finite differences; use float64.
    ok = torch.autograd.gradcheck(Exp.apply, (x,), eps=1e-6, atol=1e-4)
    print("gradcheck   =", ok)
    assert ok


def second_derivative() -> None:
    """Section 4: a second derivative through autograd.grad(create_graph=True)."""
    heading("4. A second derivative (create_graph=True)")
    x = torch.tensor(2.0, requires_grad=True)
    y = x**3
    # create_graph=True records the backward pass itself, so it can be
    # differentiated again: dy/dx = 3x^2 = 12, d2y/dx2 = 6x = 12 at x = 2.
    (dy,) = torch.autograd.grad(y, x, create_graph=True)
    (d2y,) = torch.autograd.grad(dy, x)
    print("dy/dx    =", dy.item())
    print("d2y/dx2  =", d2y.item())
    assert abs(dy.item() - 12.0) < 1e-5 and abs(d2y.item() - 12.0) < 1e-5


def training_loop() -> None:
    """Section 5: fit a line with plain gradient descent written by hand."""
    heading("5. A small training loop: fit y = 2x + 1 with plain SGD")
    x = torch.linspace(-1, 1, 64)
    y = 2 * x + 1 + 0.1 * torch.randn(64)
    w = torch.zeros(1, requires_grad=True)
    b = torch.zeros(1, requires_grad=True)
    lr = 0.1
    for step in range(201):
        loss = ((w * x + b - y) ** 2).mean()
        loss.backward()
        with torch.no_grad():  # the update itself is not recorded
            w -= lr * w.grad
            b -= lr * b.grad
        w.grad.zero_()
        b.grad = None  # either way of clearing works
        if step % 50 == 0:
            print(f"step {step:3d}  loss {loss.item():.5f}")
    print(f"learned w = {w.item():.3f}, b = {b.item():.3f}  (true: 2, 1)")
    assert abs(w.item() - 2.0) < 0.1 and abs(b.item() - 1.0) < 0.1


def main() -> None:
    """Run every section of the demo."""
    torch.manual_seed(0)
    gradients_of_a_small_graph()
    vector_jacobian_product()
    custom_function()
    second_derivative()
    training_loop()
    print()
    print("All demo checks passed.")


if __name__ == "__main__":
    main()
