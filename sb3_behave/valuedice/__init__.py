"""ValueDICE: off-policy imitation learning by distribution matching, for Discrete and Box actions."""

from sb3_behave.stack import require_imitation

require_imitation()  # imitation is installed separately: say how, before anything imports it

from sb3_behave.valuedice.expert_data import ExpertTransitions, expert_statistics, expert_transitions  # noqa: E402
from sb3_behave.valuedice.objective import (  # noqa: E402
    dv_terms,
    gradient_penalty,
    orthogonal_regularization,
    weighted_log_mean_exp,
)
from sb3_behave.valuedice.policies import MlpPolicy, ValueDICEPolicy  # noqa: E402
from sb3_behave.valuedice.valuedice import PAPER_SETTINGS, ValueDICE  # noqa: E402

__all__ = [
    "PAPER_SETTINGS",
    "ExpertTransitions",
    "MlpPolicy",
    "ValueDICE",
    "ValueDICEPolicy",
    "dv_terms",
    "expert_statistics",
    "expert_transitions",
    "gradient_penalty",
    "orthogonal_regularization",
    "weighted_log_mean_exp",
]
