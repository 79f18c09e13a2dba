"""imitation's BC, DAgger, GAIL and AIRL in the shape of an SB3 algorithm, so that the RL Zoo can drive them.

Split as imitation splits its algorithms: :mod:`.base` (what every adapter shares: the policy, the
demonstrations, callbacks and logging), :mod:`.bc` (BC and DAgger) and :mod:`.adversarial` (GAIL
and AIRL with a generator from SB3 or sb3-contrib).

What a "timestep" is:

* ``BC``: one gradient step (a batch of demonstrations); the env is used for evaluation only.
* ``DAgger``, ``GAIL``, ``AIRL``: one env step, as for PPO.
"""

from sb3_behave.zoo.adapters.adversarial import AIRL, GAIL, GENERATORS, AdversarialAlgorithm, generator_class
from sb3_behave.zoo.adapters.base import ImitationAlgorithm
from sb3_behave.zoo.adapters.bc import BC, DAgger

__all__ = ["AIRL", "BC", "GAIL", "GENERATORS", "AdversarialAlgorithm", "DAgger", "ImitationAlgorithm", "generator_class"]
