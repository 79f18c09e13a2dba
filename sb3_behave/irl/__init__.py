"""Maximum causal entropy (MCE) IRL on gymnasium's toy-text envs (FrozenLake, CliffWalking, Taxi).

:func:`tabular_model` builds imitation's tabular model (seals' ``TabularModelPOMDP``) from the env's
own transition table ``env.unwrapped.P``, with a reward per state, terminal states leading to an
absorbing end state, and a finite horizon; :func:`run_mce_irl` samples an expert's demonstrations,
runs imitation's ``MCEIRL`` and scores the learned policy exactly under the true reward, against
the expert and a random policy; :func:`plot_reward` draws the true and recovered rewards over the
grid. ``sb3-behave irl`` is the command.

Modules: :mod:`.tabular` (the model), :mod:`.mce` (expert, demonstrations, MCE IRL, returns),
:mod:`.plot` (heat maps).
"""

from sb3_behave.stack import require_imitation

require_imitation()

from sb3_behave.irl.mce import (  # noqa: E402  (after the check that imitation is installed)
    MCEIRLConfig,
    MCEIRLResult,
    expected_return,
    run_mce_irl,
    sample_demonstrations,
    soft_optimal_policy,
    uniform_policy,
)
from sb3_behave.irl.plot import plot_reward, save_reward_plot  # noqa: E402
from sb3_behave.irl.tabular import DEFAULT_HORIZON, GridLayout, TabularModel, tabular_model, transition_table  # noqa: E402

__all__ = [
    "DEFAULT_HORIZON",
    "GridLayout",
    "MCEIRLConfig",
    "MCEIRLResult",
    "TabularModel",
    "expected_return",
    "plot_reward",
    "run_mce_irl",
    "sample_demonstrations",
    "save_reward_plot",
    "soft_optimal_policy",
    "tabular_model",
    "transition_table",
    "uniform_policy",
]
