"""RL Zoo integration: imitation's BC, DAgger, GAIL and AIRL as SB3 algorithms, registration, loading agents."""

from typing import Any

from sb3_behave.agents import ALGORITHMS, algorithm_class, load_agent_from_path
from sb3_behave.zoo.loading import load_agent
from sb3_behave.zoo.registry import register_algorithms

__all__ = [
    "AIRL",
    "ALGORITHMS",
    "BC",
    "GAIL",
    "SQIL",
    "DAgger",
    "Density",
    "PreferenceComparisons",
    "algorithm_class",
    "load_agent",
    "load_agent_from_path",
    "register_algorithms",
]


def __getattr__(name: str) -> Any:  # the adapters import imitation: load them on first use
    if name in {"BC", "DAgger", "GAIL", "AIRL", "SQIL", "Density", "PreferenceComparisons"}:
        from sb3_behave.zoo import adapters

        return getattr(adapters, name)
    raise AttributeError(f"module 'sb3_behave.zoo' has no attribute {name!r}")


def __dir__() -> list[str]:  # PEP 562: dir() and the API reference list the lazy names too
    return sorted({*globals(), *__all__})
