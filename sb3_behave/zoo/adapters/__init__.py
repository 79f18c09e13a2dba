"""imitation's algorithms in the shape of an SB3 algorithm, so that the RL Zoo can drive them.

Split as imitation splits its algorithms: :mod:`.base` (what every adapter shares: the policy, the
demonstrations, callbacks and logging), :mod:`.generator` (adapters whose policy an RL algorithm
from SB3 or sb3-contrib trains on a learned reward), :mod:`.bc` (BC and DAgger)
and :mod:`.adversarial` (GAIL and AIRL).

What a "timestep" is:

* ``BC``: one gradient step (a batch of demonstrations); the env is used for evaluation only.
* every other adapter: one env step, as for PPO.
"""

from sb3_behave.zoo.adapters.adversarial import AIRL, GAIL, AdversarialAlgorithm
from sb3_behave.zoo.adapters.base import ImitationAlgorithm
from sb3_behave.zoo.adapters.bc import BC, DAgger
from sb3_behave.zoo.adapters.generator import GENERATORS, GeneratorAlgorithm, generator_class

__all__ = [
    "AIRL",
    "BC",
    "GAIL",
    "GENERATORS",
    "AdversarialAlgorithm",
    "DAgger",
    "GeneratorAlgorithm",
    "ImitationAlgorithm",
    "generator_class",
]
