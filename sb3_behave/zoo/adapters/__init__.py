"""imitation's algorithms in the shape of an SB3 algorithm, so that the RL Zoo can drive them.

Split as imitation splits its algorithms: :mod:`.base` (what every adapter shares: the policy, the
demonstrations, callbacks and logging), :mod:`.generator` (adapters whose policy an RL algorithm
from SB3 or sb3-contrib trains on a learned reward), :mod:`.bc` (BC and DAgger),
:mod:`.adversarial` (GAIL and AIRL), :mod:`.sqil` (SQIL with DQN or SAC), :mod:`.density`
(density-based reward modelling) and :mod:`.preferences` (deep RL from preference comparisons).

What a "timestep" is:

* ``BC``: one gradient step (a batch of demonstrations); the env is used for evaluation only.
* every other adapter: one env step, as for PPO.
"""

from sb3_behave.zoo.adapters.adversarial import AIRL, GAIL, AdversarialAlgorithm
from sb3_behave.zoo.adapters.base import ImitationAlgorithm
from sb3_behave.zoo.adapters.bc import BC, DAgger
from sb3_behave.zoo.adapters.density import Density
from sb3_behave.zoo.adapters.generator import GENERATORS, GeneratorAlgorithm, generator_class
from sb3_behave.zoo.adapters.preferences import PreferenceComparisons
from sb3_behave.zoo.adapters.sqil import SQIL

__all__ = [
    "AIRL",
    "BC",
    "GAIL",
    "GENERATORS",
    "SQIL",
    "AdversarialAlgorithm",
    "DAgger",
    "Density",
    "GeneratorAlgorithm",
    "ImitationAlgorithm",
    "PreferenceComparisons",
    "generator_class",
]
