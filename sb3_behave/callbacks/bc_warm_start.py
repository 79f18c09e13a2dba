"""BC warm start: pretrain an SB3 agent on demonstrations, then fine-tune it with RL without forgetting."""

from __future__ import annotations

import copy
import dataclasses
import os
from typing import Any

import gymnasium as gym
import numpy as np
import torch as th
from imitation.algorithms import bc
from imitation.data.types import Trajectory
from stable_baselines3.common.callbacks import BaseCallback
from stable_baselines3.common.evaluation import evaluate_policy
from stable_baselines3.common.vec_env import VecEnv, VecNormalize

from sb3_behave.demos.episodes import Demonstrations
from sb3_behave.demos.storage import load_demonstrations
from sb3_behave.stack import imitation_bc_warning_silenced
from sb3_behave.training import bc_trainer

FIT_VALUE_MODES = ("returns", "critic")


def discounted_returns(rewards: np.ndarray, gamma: float) -> np.ndarray:
    """``G_t = r_t + gamma * G_{t+1}`` for one episode (``G_T = 0`` after the last reward).

    :param rewards: the episode's rewards
    :param gamma: discount factor
    """
    returns = np.zeros(len(rewards), dtype=np.float64)
    running = 0.0
    for t in range(len(rewards) - 1, -1, -1):
        running = rewards[t] + gamma * running
        returns[t] = running
    return returns


class BCWarmStartCallback(BaseCallback):
    """Behavioural cloning on ``model.policy`` when training starts, then RL without forgetting.

    At the start of ``learn()``, imitation's ``bc.BC`` trains the model's own policy on the
    demonstrations; RL then continues from there. The usual recipe stops here, and the first RL
    updates, driven by an untrained value function, undo much of what BC learned. The defaults
    prevent that with the recipe that held the clone in all 7 settings of
    ``benchmarks/warm_start_robustness.py`` (3 seeds each):

    - ``fit_value="critic"``: a critic-only warm-up, in which the actor is kept as BC left it for
      ``critic_warmup_steps`` env steps while the value head learns from the env's rewards;
    - ``actor_ramp_steps``: an actor learning-rate warm-up (as in PIRLNav, Ramrakhya et al., CVPR
      2023): after the critic-only warm-up, each RL update moves the actor by only a fraction of its
      step, a fraction that grows linearly from 0 to 1 over that many env steps, so the first
      updates, driven by noisy advantages, cannot undo the clone;
    - ``entropy_floor`` (Discrete actions) / ``log_std_floor`` (Box actions): keep exploration
      alive after BC, by cooling the action logits until the mean entropy on the demonstrated
      states is at least the floor, or by raising ``log_std`` to the floor, before every rollout
      while the actor is held or ramped (for the whole run when neither is on). Kept for the
      whole run it wore the policy down on Flappy Bird: from a peak of 109 to 122 pipes to 26 to
      55 after 1M env steps, where the same runs without it ended at 77 to 116.

    Two options are off by default: ``fit_value="returns"`` fits the value head on the
    demonstrations' discounted returns instead (no env steps; the demonstrations need rewards), and
    ``bc_term_weight`` / ``bc_term_decay`` add a decaying BC term (DAPG), applied as
    ``bc_term_batches`` BC updates between RL updates with weight ``bc_term_weight * bc_term_decay **
    k`` after the k-th RL update (the weight scales the BC learning rate). In version 0.1.0
    those two were the defaults (``fit_value="returns", actor_ramp_steps=0, bc_term_weight=1.0``);
    on Flappy Bird the BC term moved the clone to other points of BC's own noise, and the clone was
    lost in 3 of the 7 settings (5 of 7 with the BC trainer of 2026-11-30).

    Works for SB3 PPO and A2C and sb3-contrib TRPO and MaskablePPO (any ``ActorCriticPolicy``), for
    Discrete and Box actions, and for the generator of sb3-behave's GAIL and AIRL (``--algo gail``):
    there the RL reward is the discriminator's, not the demonstrations', so keep ``fit_value="critic"``
    (the default: the discriminator and the critic learn while the clone is held) or use ``None``. With a
    ``VecNormalize`` training env, its observation (and return) statistics start from the
    demonstrations, and demonstrations are normalized like env data; with
    ``freeze_obs_normalization`` (the default) the observation statistics then stay where the
    demonstrations put them, since the clone learned on inputs normalized by them.
    Runs once: a second ``learn()`` call continues the BC-term schedule without cloning again. Usable
    from RL Zoo YAML (``callback: - sb3_behave.callbacks.BCWarmStartCallback: {demonstrations: ...}``).

    TensorBoard (the model's logger, at step 0 unless noted): ``warm_start/bc_loss``,
    ``warm_start/bc_accuracy`` (Discrete) or ``warm_start/bc_log_likelihood`` (Box),
    ``warm_start/entropy``, ``warm_start/eval_return`` (and ``warm_start/eval_return_std``),
    ``warm_start/value_loss`` with ``fit_value="returns"``; at every RL update after the critic-only
    warm-up ``warm_start/bc_weight`` (0 without the BC term), and ``warm_start/actor_share`` while
    the actor is held or ramped.

    :param demonstrations: what :func:`sb3_behave.demos.load_demonstrations` reads (demo folders or
        files, Minari or imitation datasets, imitation trajectories); with ``fit_value="returns"`` or
        a reward-normalizing ``VecNormalize`` they must have rewards
    :param bc_epochs: epochs of BC over the demonstrations before RL
    :param bc_batch_size: BC batch size
    :param bc_learning_rate: learning rate of BC's Adam optimizer
    :param bc_ent_weight: imitation's entropy bonus weight during BC
    :param fit_value: ``"returns"``, ``"critic"`` or ``None`` (no value fitting)
    :param value_epochs: epochs of value regression for ``fit_value="returns"``
    :param critic_warmup_steps: env steps of critic-only training for ``fit_value="critic"``
    :param actor_ramp_steps: env steps (after the critic-only warm-up, if any) over which the
        actor's share of each RL update grows linearly from 0 to 1; 0 disables
    :param bc_term_weight: weight of the BC term at the first RL update (``lambda0``); 0 disables it
    :param bc_term_decay: decay of the BC term's weight per RL update (``lambda1``)
    :param bc_term_batches: BC batches per RL update
    :param entropy_floor: minimum mean policy entropy (nats) on demonstrated states after BC, for
        Discrete actions; ``None`` disables
    :param log_std_floor: minimum ``log_std`` for Box actions (state-independent std); ``None`` disables
    :param freeze_obs_normalization: with a ``VecNormalize`` training env, keep its observation
        statistics at the demonstrations' for the rest of training (its return statistics still
        move). Without it the statistics move to the states RL visits and what the clone sees
        changes under it: on Pendulum-v1 a clone held by the critic-only warm-up went from -363 to
        -987 in 4,096 env steps without one change to its weights
    :param eval_env: env, VecEnv or env id on which to evaluate the policy right after warm start
    :param n_eval_episodes: episodes of that evaluation
    :param seed: seed of BC's batches and of the value regression
    :param progress_bar: show a progress bar of BC's batches (also shown with ``verbose=1``)
    :param verbose: 0 silent, 1 a summary and progress bars
    """

    def __init__(
        self,
        demonstrations: Demonstrations,
        bc_epochs: int = 10,
        bc_batch_size: int = 64,
        bc_learning_rate: float = 1e-3,
        bc_ent_weight: float = 1e-3,
        fit_value: str | None = "critic",
        value_epochs: int = 10,
        critic_warmup_steps: int = 10_000,
        actor_ramp_steps: int = 30_000,
        bc_term_weight: float = 0.0,
        bc_term_decay: float = 0.95,
        bc_term_batches: int = 20,
        entropy_floor: float | None = 0.05,
        log_std_floor: float | None = -1.0,
        freeze_obs_normalization: bool = True,
        eval_env: gym.Env | VecEnv | str | None = None,
        n_eval_episodes: int = 5,
        seed: int | None = 0,
        progress_bar: bool = False,
        verbose: int = 0,
    ) -> None:
        super().__init__(verbose)
        if fit_value not in (*FIT_VALUE_MODES, None):
            raise ValueError(f"fit_value={fit_value!r}: expected one of {', '.join(map(repr, FIT_VALUE_MODES))} or None")
        if actor_ramp_steps < 0:
            raise ValueError(f"actor_ramp_steps must be >= 0 env steps, got {actor_ramp_steps}")
        if bc_term_weight < 0 or not 0 <= bc_term_decay <= 1:
            raise ValueError(f"bc_term_weight must be >= 0 and bc_term_decay in [0, 1], got {bc_term_weight}, {bc_term_decay}")
        self.demonstrations = demonstrations
        self.bc_epochs = bc_epochs
        self.bc_batch_size = bc_batch_size
        self.bc_learning_rate = bc_learning_rate
        self.bc_ent_weight = bc_ent_weight
        self.fit_value = fit_value
        self.value_epochs = value_epochs
        self.critic_warmup_steps = critic_warmup_steps
        self.actor_ramp_steps = actor_ramp_steps
        self.bc_term_weight = bc_term_weight
        self.bc_term_decay = bc_term_decay
        self.bc_term_batches = bc_term_batches
        self.entropy_floor = entropy_floor
        self.log_std_floor = log_std_floor
        self.freeze_obs_normalization = freeze_obs_normalization
        self.eval_env = eval_env
        self.n_eval_episodes = n_eval_episodes
        self.seed = seed
        self.progress_bar = progress_bar
        self.warm_started = False
        self.rl_updates = 0  #: RL updates seen since the warm start
        self.stats: dict[str, float] = {}  #: what the warm start measured (also in TensorBoard)
        self._trajectories: list[Trajectory] = []  # TrajectoryWithRew where rewards are used
        self._transitions: tuple[np.ndarray, np.ndarray] | None = None  # flat (obs, acts) of the demonstrations
        self._trainer: bc.BC | None = None
        self._actor_snapshot: dict[str, th.Tensor] | None = None
        self._actor_share = 1.0  # the share of the coming RL update that the actor keeps
        self._rng = np.random.default_rng(seed)
        self._frozen_obs_rms: Any = None  # the VecNormalize observation statistics to keep, once set from the demonstrations

    # ------------------------------------------------------------------ set-up
    def _load(self) -> list[Trajectory]:
        # Rewards are needed for the value fit on returns and for VecNormalize's return statistics.
        normalizer = self._normalizer()
        needs_rewards: bool | str = False
        if self.fit_value == "returns":
            needs_rewards = "fit_value='returns' fits the value head on their returns (or use fit_value='critic')"
        elif normalizer is not None and normalizer.norm_reward and normalizer.training:
            needs_rewards = "the VecNormalize return statistics start from them"
        return load_demonstrations(self.demonstrations, env=self.model.get_env(), require_rewards=needs_rewards)

    def _normalizer(self) -> VecNormalize | None:
        normalizer = self.model.get_vec_normalize_env()
        return normalizer if isinstance(normalizer, VecNormalize) else None

    def _policy_obs(self, obs: np.ndarray) -> np.ndarray:
        """Observations normalized like the training env's (if it normalizes)."""
        normalizer = self._normalizer()
        if normalizer is None or not normalizer.norm_obs:
            return obs
        return normalizer.normalize_obs(obs).astype(np.float32)

    def _as_policy_sees(self, trajectories: list[Trajectory]) -> list[Trajectory]:
        """Demonstrations with observations normalized like the training env's (if it normalizes)."""
        return [dataclasses.replace(t, obs=self._policy_obs(t.obs)) for t in trajectories]

    def _start_normalizer_from_demos(self) -> None:
        normalizer = self._normalizer()
        if normalizer is None or not normalizer.training:
            return
        if normalizer.norm_obs:
            normalizer.obs_rms.update(np.concatenate([t.obs for t in self._trajectories]))
            if self.freeze_obs_normalization:
                self._frozen_obs_rms = copy.deepcopy(normalizer.obs_rms)
        if normalizer.norm_reward:
            gamma = normalizer.gamma
            normalizer.ret_rms.update(np.concatenate([discounted_returns(t.rews, gamma) for t in self._trajectories]))

    def _bc_trainer(self) -> bc.BC:
        from imitation.util import logger as imitation_logger

        folder = os.path.join(self.logger.dir, "bc") if self.logger.dir else None
        formats = ["tensorboard"] if self.model.tensorboard_log is not None and folder else []
        return bc_trainer(
            self.model.policy,
            self._as_policy_sees(self._trajectories),
            self.bc_batch_size,
            self.bc_learning_rate,
            self._rng,
            ent_weight=self.bc_ent_weight,
            device=self.model.device,
            custom_logger=imitation_logger.configure(folder, formats),
        )

    # ------------------------------------------------------------------ pieces
    def _demo_sample(self, size: int = 10_000) -> tuple[th.Tensor, th.Tensor]:
        # Called at every RL update (the exploration floor): flatten once, normalize only the sample.
        if self._transitions is None:
            obs = np.concatenate([t.obs[:-1] for t in self._trajectories])
            self._transitions = (obs, np.concatenate([t.acts for t in self._trajectories]))
        obs, acts = self._transitions
        if len(obs) > size:
            index = self._rng.choice(len(obs), size, replace=False)
            obs, acts = obs[index], acts[index]
        obs = self._policy_obs(obs)
        policy = self.model.policy
        return th.as_tensor(obs, device=policy.device), th.as_tensor(acts, device=policy.device)

    @th.no_grad()
    def _bc_metrics(self) -> dict[str, float]:
        obs, acts = self._demo_sample()
        policy = self.model.policy
        _, log_prob, entropy = policy.evaluate_actions(obs, acts)
        metrics = {
            "bc_loss": float(-log_prob.mean()),
            "entropy": float(entropy.mean()) if entropy is not None else float("nan"),
        }
        if isinstance(self.model.action_space, gym.spaces.Discrete):
            predicted = policy.get_distribution(obs).get_actions(deterministic=True)
            metrics["bc_accuracy"] = float((predicted == acts.reshape(predicted.shape)).float().mean())
        else:
            metrics["bc_log_likelihood"] = float(log_prob.mean())
        return metrics

    @th.no_grad()
    def _apply_exploration_floor(self) -> None:
        policy = self.model.policy
        if isinstance(self.model.action_space, gym.spaces.Discrete) and self.entropy_floor is not None:
            obs, _ = self._demo_sample(2_000)
            features = policy.mlp_extractor.forward_actor(policy.extract_features(obs, policy.pi_features_extractor))
            logits = policy.action_net(features)

            def entropy(scale: float) -> float:
                return float(th.distributions.Categorical(logits=logits * scale).entropy().mean())

            if entropy(1.0) >= self.entropy_floor:
                return
            low, high = 0.0, 1.0  # entropy grows as the logits cool (scale -> 0)
            for _ in range(30):
                mid = (low + high) / 2
                low, high = (mid, high) if entropy(mid) >= self.entropy_floor else (low, mid)
            policy.action_net.weight.mul_(low)
            policy.action_net.bias.mul_(low)
        elif hasattr(policy, "log_std") and self.log_std_floor is not None and not getattr(policy, "use_sde", False):
            policy.log_std.clamp_(min=self.log_std_floor)

    def _value_parameters(self) -> list[th.nn.Parameter]:
        policy = self.model.policy
        modules = [policy.value_net, policy.mlp_extractor.value_net]
        if not getattr(policy, "share_features_extractor", True):
            modules.append(policy.vf_features_extractor)
        return [p for m in modules for p in m.parameters()]

    def _fit_value_on_returns(self) -> float:
        """Regress V(s_t) on the demonstrations' discounted returns; the actor is untouched."""
        gamma = self.model.gamma
        obs_list, target_list = [], []
        for t in self._as_policy_sees(self._trajectories):
            returns = discounted_returns(t.rews, gamma)
            keep = len(t)
            if not t.terminal:  # returns near a time-limit cut miss their tail: leave them out
                keep = max(len(t) - int(3 / (1 - gamma)), len(t) // 2)
            obs_list.append(t.obs[:keep])
            target_list.append(returns[:keep])
        obs = np.concatenate(obs_list)
        targets = np.concatenate(target_list)
        normalizer = self._normalizer()
        if normalizer is not None and normalizer.norm_reward:
            targets = targets / np.sqrt(normalizer.ret_rms.var + normalizer.epsilon)
        policy = self.model.policy
        obs_t = th.as_tensor(obs, device=policy.device)
        targets_t = th.as_tensor(targets, dtype=th.float32, device=policy.device)
        optimizer = th.optim.Adam(self._value_parameters(), lr=1e-3)
        batch = 256
        loss = th.tensor(float("nan"))
        for _ in range(self.value_epochs):
            order = th.as_tensor(self._rng.permutation(len(obs)), device=policy.device)
            for start in range(0, len(obs), batch):
                index = order[start : start + batch]
                loss = th.nn.functional.mse_loss(policy.predict_values(obs_t[index]).flatten(), targets_t[index])
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()
        with th.no_grad():
            return float(th.nn.functional.mse_loss(policy.predict_values(obs_t).flatten(), targets_t))

    def _evaluate(self) -> tuple[float, float] | None:
        if self.eval_env is None:
            return None
        from stable_baselines3.common.env_util import make_vec_env
        from stable_baselines3.common.monitor import Monitor
        from stable_baselines3.common.vec_env import DummyVecEnv, VecMonitor, is_vecenv_wrapped

        env = self.eval_env
        if isinstance(env, str):
            env = make_vec_env(env, n_envs=1, seed=self.seed)
        elif not isinstance(env, VecEnv):
            env = DummyVecEnv([lambda: env])  # type: ignore[list-item,return-value]
        if not (is_vecenv_wrapped(env, VecMonitor) or env.env_is_wrapped(Monitor)[0]):
            env = VecMonitor(env)  # episode returns as the env gave them, whatever other wrappers do
        normalizer = self._normalizer()
        if normalizer is not None and not isinstance(env, VecNormalize):
            env = VecNormalize(env, training=False, norm_obs=normalizer.norm_obs, norm_reward=False)
            env.obs_rms = normalizer.obs_rms.copy()
        returns, _ = evaluate_policy(self.model, env, n_eval_episodes=self.n_eval_episodes, return_episode_rewards=True)
        return float(np.mean(returns)), float(np.std(returns))

    def _actor_state(self) -> dict[str, th.Tensor]:
        value_ids = {id(p) for p in self._value_parameters()}
        return {n: p.detach().clone() for n, p in self.model.policy.named_parameters() if id(p) not in value_ids}

    # ------------------------------------------------------------------ callback hooks
    def _on_training_start(self) -> None:
        if self.warm_started:
            return
        if self.fit_value == "returns" and getattr(self.model, "gamma", None) is None:
            raise ValueError(
                f"BCWarmStartCallback: fit_value='returns' fits the value head on the demonstrations' discounted returns, "
                f"but {type(self.model).__name__} has no discount factor gamma of its own (GAIL and AIRL train their "
                "generator on a learned reward): use fit_value='critic' or None"
            )
        self._trajectories = self._load()
        self._start_normalizer_from_demos()
        self._trainer = self._bc_trainer()
        with imitation_bc_warning_silenced():
            # As n_batches (the same batches as n_epochs): imitation's progress bar then knows its total.
            n_batches = self.bc_epochs * len(self._trainer._demo_data_loader)
            self._trainer.train(n_batches=n_batches, progress_bar=self.progress_bar or self.verbose > 0)
        self._apply_exploration_floor()  # the warm start always leaves the policy at the floor
        self.stats = self._bc_metrics()
        if self.fit_value == "returns":
            self.stats["value_loss"] = self._fit_value_on_returns()
        evaluation = self._evaluate()
        if evaluation is not None:
            self.stats["eval_return"], self.stats["eval_return_std"] = evaluation
        for key, value in self.stats.items():
            self.logger.record(f"warm_start/{key}", value)
        self.logger.dump(self.num_timesteps)
        self.warm_started = True
        if self.verbose > 0:
            summary = ", ".join(f"{k}={v:.4g}" for k, v in self.stats.items())
            print(f"BC warm start on {sum(len(t) for t in self._trajectories)} transitions: {summary}")

    def _on_rollout_end(self) -> None:
        # Called after collecting a rollout, before the RL update: remember the actor if the update
        # is to move it by less than its full step (critic-only warm-up, actor ramp).
        self._actor_share = self._actor_share_now() if self.warm_started else 1.0
        self._actor_snapshot = self._actor_state() if self._actor_share < 1.0 else None

    def _in_critic_warmup(self) -> bool:
        return self.fit_value == "critic" and self.num_timesteps <= self.critic_warmup_steps

    def _actor_share_now(self) -> float:
        """The share of an RL update the actor keeps now: 0 in the critic-only warm-up, then the ramp."""
        if self._in_critic_warmup():
            return 0.0
        if self.actor_ramp_steps <= 0:
            return 1.0
        start = self.critic_warmup_steps if self.fit_value == "critic" else 0
        return float(np.clip((self.num_timesteps - start) / self.actor_ramp_steps, 0.0, 1.0))

    def _floor_kept(self) -> bool:
        """Whether the exploration floor still holds: while the actor is held or ramped (always, with neither)."""
        holds = self.fit_value == "critic" and self.critic_warmup_steps > 0
        if not holds and self.actor_ramp_steps <= 0:
            return True
        return self._actor_share_now() < 1.0

    def _restore_actor(self) -> bool:
        """Scale the last RL update of the actor down to its share (undo it in the critic-only warm-up)."""
        if self._actor_snapshot is None:
            return False
        share = self._actor_share
        with th.no_grad():
            for name, param in self.model.policy.named_parameters():
                if name in self._actor_snapshot:
                    before = self._actor_snapshot[name]
                    param.copy_(before + share * (param - before))
        self.logger.record("warm_start/actor_share", share)
        self._actor_snapshot = None
        return True

    def _on_rollout_start(self) -> None:
        # Called after the previous RL update (and before the first rollout).
        if not self.warm_started or self.model.num_timesteps == 0:
            return
        self.rl_updates += 1
        self._restore_actor()
        if self._in_critic_warmup():
            return  # no BC term while the actor is held
        weight = self.bc_term_weight * self.bc_term_decay**self.rl_updates
        self.logger.record("warm_start/bc_weight", weight)
        if weight >= 1e-3 and self.bc_term_batches > 0 and self._trainer is not None:
            normalizer = self._normalizer()
            if normalizer is not None and normalizer.norm_obs:  # statistics moved: normalize afresh
                self._trainer.set_demonstrations(self._as_policy_sees(self._trajectories))
            for group in self._trainer.optimizer.param_groups:
                group["lr"] = self.bc_learning_rate * weight
            with imitation_bc_warning_silenced():
                self._trainer.train(n_batches=self.bc_term_batches, progress_bar=False)
        if self._floor_kept():
            self._apply_exploration_floor()

    def _on_step(self) -> bool:
        # VecNormalize updates its statistics in every step: put the demonstrations' back.
        if self._frozen_obs_rms is not None:
            normalizer = self._normalizer()
            if normalizer is not None and normalizer.training:
                normalizer.obs_rms = copy.deepcopy(self._frozen_obs_rms)
        return True

    def _on_training_end(self) -> None:
        # The last RL update of learn() comes after the last rollout: undo it for a held actor.
        # The RL Zoo may call this twice; a second call changes nothing.
        self._restore_actor()
        if self.warm_started and self._floor_kept():
            self._apply_exploration_floor()
