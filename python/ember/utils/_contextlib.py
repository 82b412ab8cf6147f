"""``torch.utils._contextlib``: context managers that are also decorators (ember._contextlib)."""

from .._contextlib import _DecoratorContextManager, _NoParamDecoratorContextManager, _wrap_generator, context_decorator

__all__ = ["_DecoratorContextManager", "_NoParamDecoratorContextManager", "_wrap_generator", "context_decorator"]
