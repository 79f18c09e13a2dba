"""sb3-behave: learn behaviours from demonstrations and from rewards, with Stable-Baselines3.

Importing the package stays light (it registers the environments and nothing else); the
sub-packages load torch and Stable-Baselines3 when they are used.
"""

from importlib.metadata import PackageNotFoundError, version

from sb3_behave.registration import FLAPPY_BIRD_ID, register_envs

try:
    __version__ = version("sb3-behave")
except PackageNotFoundError:  # running from a source tree that was not installed
    __version__ = "0.0.0+unknown"

register_envs()

__all__ = ["FLAPPY_BIRD_ID", "__version__", "register_envs"]
