"""ember.utils.model_zoo, as ``torch.utils.model_zoo``: ``load_url`` is ``ember.hub.load_state_dict_from_url``,
and ``tqdm`` the hub's progress bar."""

from typing import Any

from ..hub import load_state_dict_from_url as load_url

__all__ = ["load_url"]


def __getattr__(name: str) -> Any:
    if name == "tqdm":
        from .. import hub

        return hub.tqdm
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
