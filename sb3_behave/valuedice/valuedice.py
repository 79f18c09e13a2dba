"""ValueDICE: off-policy imitation by distribution matching (Kostrikov, Nachum and Tompson, ICLR 2020).

ValueDICE matches the policy's state-action occupancy ``d^pi`` to the expert's ``d^E`` by
minimizing ``KL(d^pi || d^E)`` in its Donsker-Varadhan dual form, written with a function
``nu(s, a)`` whose Bellman residual ``nu - B^pi nu`` plays the role of the log ratio::

    -KL(d^pi || d^E) = min_nu  log E_{d^E}[exp(nu(s, a) - gamma E_{a'~pi(.|s')} nu(s', a'))]
                               - (1 - gamma) E_{s_0~p_0, a_0~pi(.|s_0)}[nu(s_0, a_0)]

nu minimizes the right-hand side, the policy maximizes it. Both expectations use data only (expert
transitions, initial states and the policy's own action choices), so no on-policy samples are
needed. With replay regularization, ``d^pi`` and ``d^E`` are both mixed with the replay
distribution ``d^R`` with weight ``alpha`` (the paper's Eq. 12)::

    log E_{(1-alpha) d^E + alpha d^R}[exp(nu - B^pi nu)]
        - (1 - alpha)(1 - gamma) E_{p_0, pi}[nu(s_0, a_0)] - alpha E_{d^R}[nu - B^pi nu]

See :meth:`ValueDICE.train` for one update, :mod:`.objective` for the objective's pieces,
:mod:`.expert_data` for absorbing states.
"""

from __future__ import annotations

from collections import defaultdict
from types import MappingProxyType
from typing import Any, ClassVar, Mapping, TypeVar

import numpy as np
import torch as th
from gymnasium import spaces
from stable_baselines3.common.buffers import ReplayBuffer
from stable_baselines3.common.off_policy_algorithm import OffPolicyAlgorithm
from stable_baselines3.common.policies import BasePolicy
from stable_baselines3.common.type_aliases import GymEnv, MaybeCallback, Schedule
from stable_baselines3.common.utils import update_learning_rate
from torch import nn

from sb3_behave.demos.episodes import Demonstrations
from sb3_behave.demos.storage import load_demonstrations
from sb3_behave.stack import float_schedule
from sb3_behave.training import gradient_steps
from sb3_behave.valuedice.expert_data import absorbing_state, expert_statistics, expert_transitions
from sb3_behave.valuedice.objective import dv_terms, gradient_penalty, orthogonal_regularization
from sb3_behave.valuedice.policies import MlpPolicy, ValueDICEPolicy

SelfValueDICE = TypeVar("SelfValueDICE", bound="ValueDICE")

#: Offline mode writes the logs every this many gradient steps.
OFFLINE_LOG_EVERY = 1000

#: The settings of the paper's code (google-research/value_dice, its MuJoCo runs; exploration:
#: mean action + N(0, 0.1)). Read-only: ``{**PAPER_SETTINGS, "gradient_steps": 1}`` makes a variant.
PAPER_SETTINGS: Mapping[str, Any] = MappingProxyType(
    {
        "learning_rate": 1e-5,
        "nu_learning_rate": 1e-3,
        "learning_starts": 2000,
        "batch_size": 256,
        "gamma": 0.99,
        "alpha": 0.1,
        "gradient_penalty_weight": 10.0,
        "orthogonal_reg_weight": 1e-4,
        "absorbing_state": True,
        "absorbing_loops": 10,
        "normalize_expert_states": True,
        "initial_states": "expert",
        "exploration_noise": 0.1,
        "train_freq": 1,
        "gradient_steps": 5,
        "policy_kwargs": {"net_arch": [256, 256]},
    }
)


# --------------------------------------------------------------------------- the algorithm
class ValueDICE(OffPolicyAlgorithm):
    """ValueDICE: imitation learning by off-policy distribution matching (Kostrikov et al., ICLR 2020).

    Learns a policy whose state-action occupancy matches the demonstrations', from the
    demonstrations and (unless ``offline``) the agent's own replay buffer. Rewards are never used.
    Box actions use a tanh-squashed Gaussian actor; Discrete actions a categorical actor, with the
    expectations over the policy's actions taken exactly (a sum over actions). The defaults are those
    of the paper's code (:data:`PAPER_SETTINGS`): nu lr 1e-3, actor lr 1e-5, batch 256, gamma 0.99,
    alpha 0.1, gradient penalty 10, orthogonal regularization 1e-4, 256x256 ReLU networks, every
    expert state an initial state, 10 absorbing loops per termination; except for the compute: 1
    gradient step per env step (the paper's code takes 5) and 1,000 random steps (2,000 there).
    ``ValueDICE(policy, env, demonstrations, **ValueDICE.PAPER)`` runs the paper's settings.

    - **Absorbing states** (``absorbing_state=True``): states get an absorbing indicator. A transition
      that *really* terminates an episode leads to the absorbing state, which loops on itself; a
      time-limit truncation is never absorbing. Expert data: :func:`expert_transitions`. Replay
      data: a sampled transition stored with ``done`` (SB3's replay buffer already excludes
      ``TimeLimit.truncated`` ends from it) gets the absorbing state as next state, and sampled
      transitions are replaced by ``(absorbing, any action, absorbing)`` with probability
      ``k n_terminations / (n_transitions + k n_terminations)``: exactly as if each terminated episode
      had stored ``k = absorbing_loops`` absorbing loops (the expert data has one per terminated
      demonstration). nu ignores the action at the absorbing state.
    - **Expert state normalization** (``normalize_expert_states=True``): every observation given to the
      networks, in training and in :meth:`predict`, is normalized with the mean and std of the expert
      observations (:func:`expert_statistics`), stored in the policy and saved with it. They are
      computed once, before the first update.
    - **Offline mode** (``offline=True``): no env interaction. ``learn(total_timesteps)`` runs
      ``total_timesteps`` gradient steps (one timestep = one gradient step, so callbacks such as
      ``EvalCallback`` still work) on the expert data alone, and ``alpha`` is taken as 0: with the
      expert data as replay data, the mixture would give ``KL((1-alpha) d^pi + alpha d^E || d^E)``,
      which has the same minimizer and only a weaker gradient, so the objective is the plain dual of
      ``KL(d^pi || d^E)``. The gradient penalty interpolates between two expert batches. The env is
      reset once (SB3's set-up) but never stepped. Logs are written every 1000 gradient steps.

    Observations must be a ``Box`` (flattened for the networks); do not wrap the env in a
    ``VecNormalize`` that normalizes observations (the expert statistics do that).

    TensorBoard (``train/``): ``nu_loss`` (J + penalty weight x penalty), ``actor_loss`` (-J +
    orthogonal weight x orthogonal penalty), ``dv_objective`` (J, which tends to -KL when nu is
    optimal), ``gradient_penalty``, ``orthogonal_penalty``, ``replay_absorbing_fraction``. The
    evaluation return comes from SB3's ``EvalCallback`` (``eval/mean_reward``).

    :param policy: the policy model (``"MlpPolicy"`` or :class:`ValueDICEPolicy`)
    :param env: the env to learn in (also needed offline, for its spaces), or its id
    :param demonstrations: what :func:`sb3_behave.demos.load_demonstrations` reads (demo folders or
        files, Minari or imitation datasets, imitation trajectories); may be left out when loading
        a saved model
    :param learning_rate: the actor's learning rate (a float or a schedule)
    :param nu_learning_rate: nu's learning rate (a float or a schedule)
    :param buffer_size: size of the replay buffer
    :param learning_starts: env steps of uniformly random actions before learning starts
    :param batch_size: expert, replay and initial-state batch size
    :param gamma: discount factor (< 1)
    :param alpha: replay regularization: weight of the replay distribution in both mixtures, in ``[0, 1)``
    :param gradient_penalty_weight: weight of nu's gradient penalty
    :param orthogonal_reg_weight: weight of the actor's orthogonal regularization
    :param absorbing_state: use absorbing states for real terminations
    :param absorbing_loops: absorbing loops the replay data holds per real termination (the
        paper's code stores 10)
    :param penalize_absorbing: apply the gradient penalty also between env states and the absorbing
        state (as the paper's code does)
    :param normalize_expert_states: normalize observations with the expert statistics
    :param offline: learn from the demonstrations alone, without env interaction
    :param initial_states: ``"expert"``: p_0 is every expert state, as the paper's code does (each
        state starts the rest of its trajectory, which gives the linear term far more states);
        ``"first"``: the first observation of each demonstration
    :param exploration_noise: Box actions only: after ``learning_starts``, the rollouts take the
        actor's mean action plus Gaussian noise of this standard deviation (in the ``[-1, 1]`` action
        scale, then clipped), as the paper's code does (0.1); None samples from the actor instead
    :param train_freq: update the model every ``train_freq`` steps (or ``(n, "episode")``)
    :param gradient_steps: gradient steps after each rollout (-1: as many as env steps)
    :param replay_buffer_class: replay buffer class (SB3's ``ReplayBuffer`` by default)
    :param replay_buffer_kwargs: its keyword arguments
    :param stats_window_size: episodes averaged in the rollout logs
    :param tensorboard_log: TensorBoard log folder (None: no logging)
    :param policy_kwargs: policy keyword arguments (``net_arch``, ``activation_fn``, ...)
    :param verbose: 0 silent, 1 info, 2 debug
    :param seed: seed of the random generators
    :param device: torch device
    :param _init_setup_model: build the networks at creation
    """

    policy_aliases: ClassVar[dict[str, type[BasePolicy]]] = {"MlpPolicy": MlpPolicy}
    #: The paper code's settings (:data:`PAPER_SETTINGS`): ``ValueDICE(policy, env, demos, **ValueDICE.PAPER)``.
    PAPER: ClassVar[Mapping[str, Any]] = PAPER_SETTINGS
    policy: ValueDICEPolicy
    actor: nn.Module
    nu: nn.Module
    replay_buffer: ReplayBuffer

    def __init__(
        self,
        policy: str | type[ValueDICEPolicy],
        env: GymEnv | str,
        demonstrations: Demonstrations | None = None,
        learning_rate: float | Schedule = 1e-5,
        nu_learning_rate: float | Schedule = 1e-3,
        buffer_size: int = 1_000_000,
        learning_starts: int = 1000,
        batch_size: int = 256,
        gamma: float = 0.99,
        alpha: float = 0.1,
        gradient_penalty_weight: float = 10.0,
        orthogonal_reg_weight: float = 1e-4,
        absorbing_state: bool = True,
        absorbing_loops: int = 10,
        penalize_absorbing: bool = True,
        normalize_expert_states: bool = True,
        offline: bool = False,
        initial_states: str = "expert",
        exploration_noise: float | None = 0.1,
        train_freq: int | tuple[int, str] = 1,
        gradient_steps: int = 1,
        replay_buffer_class: type[ReplayBuffer] | None = None,
        replay_buffer_kwargs: dict[str, Any] | None = None,
        stats_window_size: int = 100,
        tensorboard_log: str | None = None,
        policy_kwargs: dict[str, Any] | None = None,
        verbose: int = 0,
        seed: int | None = None,
        device: th.device | str = "auto",
        _init_setup_model: bool = True,
    ) -> None:
        super().__init__(
            policy,
            env,
            learning_rate,
            buffer_size=buffer_size,
            learning_starts=learning_starts,
            batch_size=batch_size,
            gamma=gamma,
            train_freq=train_freq,
            gradient_steps=gradient_steps,
            replay_buffer_class=replay_buffer_class,
            replay_buffer_kwargs=replay_buffer_kwargs,
            policy_kwargs=policy_kwargs,
            stats_window_size=stats_window_size,
            tensorboard_log=tensorboard_log,
            verbose=verbose,
            device=device,
            seed=seed,
            sde_support=False,
            supported_action_spaces=(spaces.Box, spaces.Discrete),
            support_multi_env=True,
        )
        if not 0 <= alpha < 1:
            raise ValueError(f"alpha={alpha}: the replay mixing weight must be in [0, 1)")
        if not 0 < gamma < 1:
            raise ValueError(f"gamma={gamma}: ValueDICE needs a discount in (0, 1)")
        if gradient_penalty_weight < 0 or orthogonal_reg_weight < 0:
            raise ValueError("gradient_penalty_weight and orthogonal_reg_weight must be >= 0")
        if exploration_noise is not None and exploration_noise < 0:
            raise ValueError(f"exploration_noise={exploration_noise}: expected a standard deviation >= 0, or None")
        if absorbing_loops < 1:
            raise ValueError(f"absorbing_loops={absorbing_loops}: expected at least 1 absorbing loop per termination")
        if initial_states not in ("first", "expert"):
            raise ValueError(f"initial_states={initial_states!r}: expected 'first' or 'expert'")
        normalizer = self._vec_normalize_env
        if normalizer is not None and getattr(normalizer, "norm_obs", False):
            raise ValueError(
                "ValueDICE normalizes observations itself, with the expert statistics: do not wrap the env in "
                "VecNormalize with norm_obs=True (RL Zoo: leave out 'normalize')"
            )
        self.nu_learning_rate = nu_learning_rate
        self.alpha = alpha
        self.gradient_penalty_weight = gradient_penalty_weight
        self.orthogonal_reg_weight = orthogonal_reg_weight
        self.absorbing_state = absorbing_state
        self.absorbing_loops = absorbing_loops
        self.penalize_absorbing = penalize_absorbing
        self.normalize_expert_states = normalize_expert_states
        self.offline = offline
        self.initial_states = initial_states
        self.exploration_noise = exploration_noise
        self.demonstrations = demonstrations
        self.policy_kwargs = {**self.policy_kwargs, "absorbing_state": absorbing_state}  # a copy: never the caller's dict
        self._expert: dict[str, th.Tensor] | None = None
        if _init_setup_model:
            self._setup_model()

    # ------------------------------------------------------------------ set-up
    def _setup_model(self) -> None:
        super()._setup_model()
        self.actor = self.policy.actor
        self.nu = self.policy.nu
        self.nu_lr_schedule = float_schedule(self.nu_learning_rate)
        optimizer_class, optimizer_kwargs = self.policy.optimizer_class, self.policy.optimizer_kwargs
        self.actor.optimizer = optimizer_class(self.actor.parameters(), lr=self.lr_schedule(1), **optimizer_kwargs)
        self.nu.optimizer = optimizer_class(self.nu.parameters(), lr=self.nu_lr_schedule(1), **optimizer_kwargs)
        self._expert = None
        if self.demonstrations is not None:
            self.set_demonstrations(self.demonstrations)

    def set_demonstrations(self, demonstrations: Demonstrations) -> None:
        """Load and check the demonstrations, and build the expert transitions.

        The normalization statistics are computed here, but only before the first update: after
        that (for instance when a saved model is loaded with ``demonstrations=``) the networks were
        trained on the existing statistics, which are kept.

        :param demonstrations: what :func:`~sb3_behave.demos.load_demonstrations` reads, checked
            against the env (or this model's spaces)
        :raises DemonstrationError: naming the file or trajectory at fault
        """
        # Checked against the env, or against this model's spaces when it has no env (a loaded model).
        trajectories = load_demonstrations(demonstrations, env=self.env if self.env is not None else self)
        transitions = expert_transitions(trajectories, self.absorbing_state)
        if self._n_updates == 0:
            if self.normalize_expert_states:
                mean, std = expert_statistics(trajectories)
            else:
                mean, std = np.zeros(self.policy.obs_dim), np.ones(self.policy.obs_dim)
            self.policy.set_normalization(mean, std)
        actions = transitions.actions
        if isinstance(self.action_space, spaces.Box):
            actions = np.clip(self.policy.scale_action(actions.astype(np.float32)), -1.0, 1.0).astype(np.float32)
        else:
            actions = actions.reshape(len(actions)).astype(np.int64)
        initial = transitions.initial_states if self.initial_states == "first" else transitions.states
        self._expert = {
            name: th.as_tensor(array, device=self.device)
            for name, array in (
                ("states", transitions.states),
                ("actions", actions),
                ("next_states", transitions.next_states),
                ("initial_states", initial),
            )
        }
        self.demonstrations = demonstrations

    # ------------------------------------------------------------------ sampling
    def _inputs(self, states: th.Tensor, actions: th.Tensor, next_states: th.Tensor) -> tuple[th.Tensor, ...]:
        """Network inputs (normalized states, action vectors, normalized next states) from raw states."""
        s = self.policy.network_state(states)
        return s, self.policy.encode_actions(actions, s), self.policy.network_state(next_states)

    def _sample_expert(self, n: int) -> tuple[th.Tensor, ...]:
        assert self._expert is not None
        index = th.randint(len(self._expert["states"]), (n,), device=self.device)
        return self._inputs(self._expert["states"][index], self._expert["actions"][index], self._expert["next_states"][index])

    def _sample_initial_states(self, n: int) -> th.Tensor:
        assert self._expert is not None
        initial = self._expert["initial_states"]
        return self.policy.network_state(initial[th.randint(len(initial), (n,), device=self.device)])

    def replay_absorbing_fraction(self) -> float:
        """Share of absorbing loops among replay transitions: ``k n_term / (n_transitions + k n_term)``.

        ``n_term`` counts the stored transitions that really terminated an episode (``done`` and
        not ``TimeLimit.truncated``), each of which stands for ``k = absorbing_loops`` absorbing loops.
        """
        buffer = self.replay_buffer
        stored = buffer.buffer_size if buffer.full else buffer.pos
        if stored == 0:
            return 0.0
        loops = self.absorbing_loops * float((buffer.dones[:stored] * (1.0 - buffer.timeouts[:stored])).sum())
        return loops / (stored * buffer.n_envs + loops)

    def _sample_replay(self, n: int, absorbing_fraction: float) -> tuple[th.Tensor, ...]:
        if self.offline:
            return self._sample_expert(n)
        data = self.replay_buffer.sample(n, env=self._vec_normalize_env)
        states = self.policy.with_indicator(data.observations)
        next_states = self.policy.with_indicator(data.next_observations)
        if self.absorbing_state:
            end = th.as_tensor(absorbing_state(self.policy.obs_dim), device=self.device)
            next_states = th.where(data.dones.reshape(-1, 1) > 0.5, end, next_states)  # real terminations only
            loop = th.rand(n, 1, device=self.device) < absorbing_fraction  # (absorbing -> absorbing) transitions
            states, next_states = th.where(loop, end, states), th.where(loop, end, next_states)
        return self._inputs(states, data.actions, next_states)

    # ------------------------------------------------------------------ training
    def train(self, gradient_steps: int, batch_size: int = 256) -> None:
        """Run ``gradient_steps`` updates of nu and of the actor (see :meth:`update`).

        :param gradient_steps: number of updates
        :param batch_size: size of the expert, replay and initial-state batches
        """
        self._require_demonstrations()
        self.policy.set_training_mode(True)
        self._update_learning_rate([self.actor.optimizer])
        update_learning_rate(self.nu.optimizer, self.nu_lr_schedule(self._current_progress_remaining))
        fraction = self.replay_absorbing_fraction() if self.absorbing_state and not self.offline else 0.0
        logs: dict[str, list[float]] = defaultdict(list)
        for _ in range(gradient_steps):
            for name, value in self.update(batch_size, fraction).items():
                logs[name].append(value)
        self._n_updates += gradient_steps
        self.logger.record("train/n_updates", self._n_updates, exclude="tensorboard")
        self.logger.record("train/nu_learning_rate", self.nu_lr_schedule(self._current_progress_remaining))
        self.logger.record("train/replay_absorbing_fraction", fraction)
        for name, values in logs.items():
            self.logger.record(f"train/{name}", float(np.mean(values)))

    def losses(self, n: int, absorbing_fraction: float = 0.0) -> dict[str, th.Tensor]:
        """nu's and the actor's losses on one batch of expert, replay and initial-state samples.

        :param n: batch size
        :param absorbing_fraction: share of absorbing loops in the replay data
        :return: ``nu_loss`` (J + penalty weight x gradient penalty, which nu descends), ``actor_loss``
            (-J + orthogonal weight x orthogonal penalty, which the actor descends), ``dv_objective``
            (J), ``gradient_penalty`` and ``orthogonal_penalty``, as tensors in one graph
        """
        gamma, alpha = self.gamma, 0.0 if self.offline else self.alpha
        policy = self.policy
        s_e, a_e, s1_e = self._sample_expert(n)  # (s, a, s') ~ d^E
        s_r, a_r, s1_r = self._sample_replay(n, absorbing_fraction)  # (s, a, s') ~ d^R (offline: d^E)
        s_0 = self._sample_initial_states(n)  # s_0 ~ p_0
        # nu(s, a) on the data, and E_{a'~pi(.|s')} nu(s', a') at next and initial states (exact sum for Discrete)
        nu_e, nu_r = policy.nu_value(th.cat([s_e, s_r]), th.cat([a_e, a_r])).split(n)
        nu_next, a_pi = policy.expected_nu(th.cat([s1_e, s1_r, s_0]))
        nu1_e, nu1_r, nu_0 = nu_next.split(n)
        expert_diff = nu_e - gamma * nu1_e  # (nu - B^pi nu)(s, a) on d^E
        replay_diff = nu_r - gamma * nu1_r  # (nu - B^pi nu)(s, a) on d^R
        # J = log E_{(1-alpha) d^E + alpha d^R}[exp(diff)] - (1-alpha)(1-gamma) E_{p_0,pi}[nu(s_0,a_0)] - alpha E_{d^R}[diff]
        nonlinear, linear = dv_terms(expert_diff, replay_diff, nu_0, gamma, alpha)
        objective = nonlinear - linear  # min over nu: -KL(mixed d^pi || mixed d^E); pi maximizes it
        # Gradient penalty: ||grad nu|| = 1 at random interpolations of expert and replay inputs (a' of pi detached)
        a1_e, a1_r = a_pi[: 2 * n].detach().split(n)
        eps = th.rand(n, 1, device=self.device)
        inputs = th.cat(
            [
                eps * th.cat([s_e, a_e], 1) + (1 - eps) * th.cat([s_r, a_r], 1),
                eps * th.cat([s1_e, a1_e], 1) + (1 - eps) * th.cat([s1_r, a1_r], 1),
            ]
        )
        if self.absorbing_state and not self.penalize_absorbing:
            # No segment with an absorbing end: the indicator is a flag, not a distance.
            real = policy._not_absorbing  # 1 for env states, 0 for the absorbing state
            keep = th.cat([real(s_e) * real(s_r), real(s1_e) * real(s1_r)]).reshape(-1) > 0.5
            inputs = inputs[keep]
        penalty = gradient_penalty(self.nu, inputs) if len(inputs) else inputs.new_zeros(())
        orthogonal = orthogonal_regularization(self.actor.weight_layers)  # type: ignore[union-attr]
        return {
            "nu_loss": objective + self.gradient_penalty_weight * penalty,
            "actor_loss": -objective + self.orthogonal_reg_weight * orthogonal,
            "dv_objective": objective,
            "gradient_penalty": penalty,
            "orthogonal_penalty": orthogonal,
        }

    def update(self, n: int, absorbing_fraction: float = 0.0) -> dict[str, float]:
        """One gradient step of nu (descent on J + penalty) and of pi (ascent on J), on the same samples.

        Both gradients come from one backward pass (:meth:`losses`): the gradient penalty does not
        depend on the actor (its actions are detached) and the orthogonal penalty not on nu, so the
        gradient of ``nu_loss - orthogonal weight x orthogonal penalty`` is nu's gradient for nu and
        minus the actor's gradient for the actor.

        :param n: batch size
        :param absorbing_fraction: share of absorbing loops in the replay data
        :return: the losses and penalties, as floats
        """
        losses = self.losses(n, absorbing_fraction)
        self.nu.optimizer.zero_grad()
        self.actor.optimizer.zero_grad()
        (losses["nu_loss"] - self.orthogonal_reg_weight * losses["orthogonal_penalty"]).backward()
        for parameter in self.actor.parameters():
            if parameter.grad is not None:
                parameter.grad.neg_()
        self.nu.optimizer.step()
        self.actor.optimizer.step()
        return {name: value.item() for name, value in losses.items()}

    def _sample_action(self, learning_starts: int, action_noise: Any = None, n_envs: int = 1) -> tuple[np.ndarray, np.ndarray]:
        """SB3's rollout action; for Box actions with ``exploration_noise``, mean action + N(0, noise^2), clipped."""
        if (
            self.exploration_noise is None
            or not isinstance(self.action_space, spaces.Box)
            or self.num_timesteps < learning_starts
        ):
            return super()._sample_action(learning_starts, action_noise, n_envs)
        action, _ = self.predict(self._last_obs, deterministic=True)
        scaled = self.policy.scale_action(action)
        scaled = np.clip(scaled + self.exploration_noise * np.random.standard_normal(scaled.shape), -1.0, 1.0)
        return self.policy.unscale_action(scaled), scaled

    def _require_demonstrations(self) -> None:
        if self._expert is None:
            raise ValueError(
                "ValueDICE has no demonstrations: pass demonstrations=... to the constructor, to ValueDICE.load(), "
                "or call set_demonstrations()"
            )

    # ------------------------------------------------------------------ learning
    def learn(
        self: SelfValueDICE,
        total_timesteps: int,
        callback: MaybeCallback = None,
        log_interval: int | None = 4,
        tb_log_name: str = "ValueDICE",
        reset_num_timesteps: bool = True,
        progress_bar: bool = False,
    ) -> SelfValueDICE:
        """Learn for ``total_timesteps`` env steps, or, offline, ``total_timesteps`` gradient steps.

        :param total_timesteps: env steps (online) or gradient steps (offline)
        :param callback: callback(s) called at every step (offline: every gradient step)
        :param log_interval: online: dump the logs every ``log_interval`` episodes; offline: None
            disables the logs written every 1000 gradient steps and at the end
        :param tb_log_name: name of the TensorBoard run
        :param reset_num_timesteps: start counting timesteps from 0
        :param progress_bar: show a progress bar
        """
        self._require_demonstrations()
        if not self.offline:
            return super().learn(total_timesteps, callback, log_interval, tb_log_name, reset_num_timesteps, progress_bar)
        dump_every = OFFLINE_LOG_EVERY if log_interval is not None else None
        learning = gradient_steps(self, total_timesteps, callback, tb_log_name, reset_num_timesteps, progress_bar, dump_every)
        with learning as steps:
            for _ in range(steps.remaining):
                self.train(gradient_steps=1, batch_size=self.batch_size)
                if not steps.step():
                    break
        return self

    # ------------------------------------------------------------------ saving
    def _excluded_save_params(self) -> list[str]:
        # Aliases, the demonstrations (large; pass them again to load() to train further), the nu schedule (rebuilt).
        return [*super()._excluded_save_params(), "actor", "nu", "demonstrations", "_expert", "nu_lr_schedule"]

    def _get_torch_save_params(self) -> tuple[list[str], list[str]]:
        return ["policy", "actor.optimizer", "nu.optimizer"], []
