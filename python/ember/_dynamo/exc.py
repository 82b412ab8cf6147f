"""ember._dynamo.exc, as ``torch._dynamo.exc``: the exception types libraries catch around ``torch.compile``
(heavyball retries eagerly on ``TorchDynamoException``). ember compiles nothing, so it raises none of them;
they exist so that ``except`` clauses naming them work."""

from __future__ import annotations

__all__ = ["BackendCompilerFailed", "InternalTorchDynamoError", "RestartAnalysis", "SkipFrame", "TorchDynamoException",
           "TorchRuntimeError", "Unsupported", "UserError"]  # fmt: skip


class TorchDynamoException(RuntimeError):
    """The base of the compiler's errors, as PyTorch's."""


class InternalTorchDynamoError(TorchDynamoException):
    pass


class RestartAnalysis(TorchDynamoException):
    pass


class SkipFrame(TorchDynamoException):
    pass


class TorchRuntimeError(TorchDynamoException):
    pass


class Unsupported(TorchDynamoException):
    pass


class UserError(Unsupported):
    pass


class BackendCompilerFailed(TorchDynamoException):
    pass
