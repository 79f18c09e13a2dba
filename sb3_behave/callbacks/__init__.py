"""SB3 callbacks: BC warm start, landscape snapshots."""

from sb3_behave.stack import require_imitation

require_imitation()  # imitation is installed separately: say how, before anything imports it

__all__ = ["BCWarmStartCallback", "LandscapeCallback"]


def __getattr__(name: str) -> object:
    # Each callback imports torch and its own helpers: load them when asked for.
    if name == "BCWarmStartCallback":
        from sb3_behave.callbacks.bc_warm_start import BCWarmStartCallback

        return BCWarmStartCallback
    if name == "LandscapeCallback":
        from sb3_behave.callbacks.landscape import LandscapeCallback

        return LandscapeCallback
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:  # PEP 562: dir() and the API reference list the lazy names too
    return sorted({*globals(), *__all__})
