"""Loss landscapes: the imitation loss and the RL loss of one policy on the same slice of its weights.

Take a policy (a fresh random init, or a trained model) and a set of demonstrations, choose a 2-D
slice ``theta0 + alpha * d1 + beta * d2`` of the actor's weights, and draw over it

- the imitation (IL) loss: cross-entropy or MSE to the demonstrated actions (Discrete), NLL or
  MSE (Box);
- the RL loss: REINFORCE, ``-1/N sum_t w_t log pi(a_t|s_t)``, weighted by the demonstrations'
  discounted reward-to-go (with options for the discount, return normalization and a baseline).

On demonstrations of a player who crashes at once the RL landscape comes out as the IL one
upside down; on good play the two look alike. :func:`compute_landscape` gives both surfaces and
how much they agree (Pearson and Spearman correlation, distance between the minima, cosine of
the gradients at ``theta0``); ``sb3-behave landscape`` writes figures, JSON and TensorBoard
events; :class:`sb3_behave.callbacks.LandscapeCallback` snapshots it during training.

Modules: :mod:`.actor` (which parameters, the forward), :mod:`.directions`, :mod:`.objectives`,
:mod:`.surface` (the batched grid evaluation), :mod:`.metrics`, :mod:`.plot`, :mod:`.report`
(the command), :mod:`.bench` (``sb3-behave bench landscape``).
"""

from sb3_behave.landscape.actor import ActorOutput, PolicyActor, fresh_policy, load_policy
from sb3_behave.landscape.directions import (
    DEFAULT_WEIGHTS,
    Directions,
    filter_directions,
    gradient_directions,
    weight_directions,
)
from sb3_behave.landscape.metrics import agreement
from sb3_behave.landscape.objectives import (
    DemoSet,
    Objective,
    imitation_objective,
    reinforce_objective,
    reinforce_weights,
    rewards_to_go,
)
from sb3_behave.landscape.plot import plot_landscape
from sb3_behave.landscape.report import Landscape, LandscapeConfig, compute_landscape, landscape_report
from sb3_behave.landscape.surface import (
    Surfaces,
    actor_gradients,
    evaluate_surfaces,
    evaluate_surfaces_loop,
    grid_axes,
)

__all__ = [
    "DEFAULT_WEIGHTS",
    "ActorOutput",
    "DemoSet",
    "Directions",
    "Landscape",
    "LandscapeConfig",
    "Objective",
    "PolicyActor",
    "Surfaces",
    "actor_gradients",
    "agreement",
    "compute_landscape",
    "evaluate_surfaces",
    "evaluate_surfaces_loop",
    "filter_directions",
    "fresh_policy",
    "gradient_directions",
    "grid_axes",
    "imitation_objective",
    "landscape_report",
    "load_policy",
    "plot_landscape",
    "reinforce_objective",
    "reinforce_weights",
    "rewards_to_go",
    "weight_directions",
]
