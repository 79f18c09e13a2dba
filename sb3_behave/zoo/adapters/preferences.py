"""Deep RL from preferences (imitation's ``PreferenceComparisons``) as an SB3 algorithm.

A generator (PPO, A2C or TRPO) trains the adapter's policy on a reward model; the reward model
learns from preferences between pairs of fragments of the generator's episodes. The preferences
come from the env's reward (imitation's ``SyntheticGatherer``, the default) or from a person in the
comparison window (``preference_gatherer: person``). With ``preferences: <folder>`` every answer is
saved there when it is given, and a folder that already holds answers resumes the run: they are
trained on first and count toward ``total_comparisons``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar, TypeVar

import torch as th
from stable_baselines3.common.callbacks import BaseCallback, CallbackList
from stable_baselines3.common.policies import ActorCriticPolicy
from stable_baselines3.common.type_aliases import GymEnv, MaybeCallback

from sb3_behave.checks import is_whole_number
from sb3_behave.zoo.adapters.generator import ForwardCallback, GeneratorAlgorithm
from sb3_behave.zoo.adapters.positive import check_generator_reward, positive_reward_net

SelfPreferenceComparisons = TypeVar("SelfPreferenceComparisons", bound="PreferenceComparisons")

#: Who answers: the env's reward (imitation's ``SyntheticGatherer``) or a person in the comparison window.
GATHERERS = ("synthetic", "person")
#: imitation's query schedules (the share of the comparisons asked at each iteration).
QUERY_SCHEDULES = ("constant", "hyperbolic", "inverse_quadratic")
#: ``gatherer_kwargs`` each gatherer takes.
GATHERER_KWARGS = {
    "synthetic": ("temperature", "discount_factor", "sample", "threshold"),
    "person": ("fps", "clip_height", "frame_height", "on_frame", "verbose"),
}


class _Stop(Exception):
    """Raised between imitation's iterations when the adapter's callbacks asked to stop."""


class _IdleWindow(BaseCallback):
    """While the generator trains, keeps the person's comparison window responsive (it says the agent trains)."""

    def __init__(self, window: Any) -> None:
        super().__init__()
        self.window = window

    def _on_step(self) -> bool:
        self.window.idle()
        return True


class PreferenceComparisons(GeneratorAlgorithm):
    """imitation's ``PreferenceComparisons`` with a generator from SB3 / sb3-contrib, a reward net saved with the policy.

    ``learn(total_timesteps)`` spends ``total_timesteps`` training env steps of the generator over
    ``num_iterations`` iterations; each iteration asks for preferences on new fragment pairs
    (imitation's query schedule shares out ``total_comparisons``), trains the reward model on all
    answers so far, then trains the policy on it. Every keyword argument this class does not know
    goes to the generator (``n_steps``, ``batch_size``, ``ent_coef``, ``gamma``, ...).

    The fragments are cut from the generator's latest training episodes; when those are too few
    (and always with ``preference_gatherer="person"``, whose fragments need rendered frames that
    training steps do not have), imitation's ``AgentTrainer.sample`` plays extra episodes with the
    policy: these steps come on top of ``total_timesteps``, are not counted in ``num_timesteps``
    and are not seen by callbacks. They are about ``2 * fragment_length * transition_oversampling``
    steps per comparison asked.

    :param policy: the policy class or alias (``"MlpPolicy"``)
    :param env: the env (with ``preference_gatherer="person"`` it must render ``rgb_array`` frames)
    :param total_comparisons: preferences asked for in one ``learn`` (answers already in ``preferences`` count)
    :param num_iterations: reward-model / policy training iterations
    :param fragment_length: steps per fragment
    :param transition_oversampling: the generator's steps sampled per step the fragments need
    :param initial_comparison_frac: share of the comparisons asked before the policy is trained
    :param initial_epoch_multiplier: the reward model's first training runs this many times more epochs
    :param comparison_queue_size: the most comparisons trained on (the oldest go first); ``None``: all
    :param query_schedule: ``"hyperbolic"``, ``"constant"`` or ``"inverse_quadratic"``
    :param exploration_frac: share of the sampled steps taken partly by random actions
    :param reward_net_kwargs: keyword arguments of imitation's ``BasicRewardNet`` (``hid_sizes``, ...)
    :param reward_learning_rate: AdamW's learning rate for the reward model
    :param reward_epochs: epochs over the comparisons at each iteration
    :param reward_batch_size: comparisons per reward-model step
    :param preference_gatherer: ``"synthetic"`` (the env's reward) or ``"person"`` (the comparison window)
    :param gatherer_kwargs: for ``"synthetic"``: imitation's ``temperature``, ``discount_factor``,
        ``sample``, ``threshold``; for ``"person"``: ``fps``, ``clip_height``, ``frame_height``, ``on_frame``, ``verbose``
    :param preferences: a folder: each answer is written there when given; answers already there resume the run
    :param allow_variable_horizon: allow episodes of different lengths (see imitation's warning)
    :param generator_reward: what the generator is trained on: ``"learned"`` (imitation's: the reward
        model's output, whose level no preference between fragments of equal length fixes, so that
        where it is negative an env whose episodes end on failure teaches the generator to end them)
        or ``"positive"`` (:func:`~sb3_behave.zoo.adapters.positive.positive_reward` of it). The reward
        model is trained the same way with either
    :param gen_algo: the generator: ``"ppo"``, ``"a2c"`` or ``"trpo"``
    :param policy_kwargs: keyword arguments of the policy
    :param tensorboard_log: the TensorBoard folder
    :param verbose: 0 silent, 1 training tables
    :param seed: seed
    :param device: torch device
    :param _init_setup_model: build the networks now
    :param gen_kwargs: the generator's hyperparameters (``n_steps``, ``learning_rate``, ``ent_coef``, ...)
    """

    algo_name: ClassVar[str] = "preference_comparisons"
    reward_net: th.nn.Module

    def __init__(
        self,
        policy: str | type[ActorCriticPolicy],
        env: GymEnv | str | None,
        total_comparisons: int = 200,
        num_iterations: int = 10,
        fragment_length: int = 50,
        transition_oversampling: float = 1.0,
        initial_comparison_frac: float = 0.1,
        initial_epoch_multiplier: float = 4.0,
        comparison_queue_size: int | None = None,
        query_schedule: str = "hyperbolic",
        exploration_frac: float = 0.0,
        reward_net_kwargs: dict[str, Any] | None = None,
        reward_learning_rate: float = 1e-3,
        reward_epochs: int = 3,
        reward_batch_size: int = 32,
        preference_gatherer: str = "synthetic",
        gatherer_kwargs: dict[str, Any] | None = None,
        preferences: str | None = None,
        allow_variable_horizon: bool = True,
        generator_reward: str = "learned",
        gen_algo: str = "ppo",
        policy_kwargs: dict[str, Any] | None = None,
        tensorboard_log: str | None = None,
        verbose: int = 0,
        seed: int | None = None,
        device: th.device | str = "auto",
        _init_setup_model: bool = True,
        **gen_kwargs: Any,
    ) -> None:
        name = self.algo_name
        for key, value in (
            ("total_comparisons", total_comparisons),
            ("num_iterations", num_iterations),
            ("fragment_length", fragment_length),
            ("reward_epochs", reward_epochs),
            ("reward_batch_size", reward_batch_size),
        ):
            if not is_whole_number(value):
                raise ValueError(f"{name}: {key} is {value!r}: expected a positive integer")
        if query_schedule not in QUERY_SCHEDULES:
            raise ValueError(f"{name}: query_schedule is {query_schedule!r}: expected one of {', '.join(QUERY_SCHEDULES)}")
        if preference_gatherer not in GATHERERS:
            raise ValueError(f"{name}: preference_gatherer is {preference_gatherer!r}: expected one of {', '.join(GATHERERS)}")
        unknown = sorted(set(gatherer_kwargs or {}) - set(GATHERER_KWARGS[preference_gatherer]))
        if unknown:
            raise ValueError(
                f"{name}: gatherer_kwargs {', '.join(unknown)} unknown for the {preference_gatherer} gatherer: expected "
                f"{', '.join(GATHERER_KWARGS[preference_gatherer])}"
            )
        if preferences is not None:
            from sb3_behave.preferences.storage import check_preferences_folder

            check_preferences_folder(preferences)
        self.total_comparisons = total_comparisons
        self.num_iterations = num_iterations
        self.fragment_length = fragment_length
        self.transition_oversampling = transition_oversampling
        self.initial_comparison_frac = initial_comparison_frac
        self.initial_epoch_multiplier = initial_epoch_multiplier
        self.comparison_queue_size = comparison_queue_size
        self.query_schedule = query_schedule
        self.exploration_frac = exploration_frac
        self.reward_net_kwargs = reward_net_kwargs or {}
        self.reward_learning_rate = reward_learning_rate
        self.reward_epochs = reward_epochs
        self.reward_batch_size = reward_batch_size
        self.preference_gatherer = preference_gatherer
        self.gatherer_kwargs = gatherer_kwargs or {}
        self.preferences = None if preferences is None else str(preferences)
        self.allow_variable_horizon = allow_variable_horizon
        self.generator_reward = check_generator_reward(name, generator_reward)
        #: imitation's iterations done, over every ``learn``.
        self.iteration = 0
        #: comparisons trained on at the end of the last ``learn``.
        self.comparisons = 0
        super().__init__(
            policy=policy,
            env=env,
            gen_algo=gen_algo,
            policy_kwargs=policy_kwargs,
            tensorboard_log=tensorboard_log,
            verbose=verbose,
            seed=seed,
            device=device,
            _init_setup_model=_init_setup_model,
            **gen_kwargs,
        )
        if preference_gatherer == "person" and self.env is not None:
            from sb3_behave.preferences.frames import check_renders_frames

            check_renders_frames(self.env)

    def _setup_model(self) -> None:
        super()._setup_model()
        from imitation.rewards.reward_nets import BasicRewardNet
        from imitation.util.networks import RunningNorm

        kwargs = {"normalize_input_layer": RunningNorm, **self.reward_net_kwargs}
        self.reward_net = BasicRewardNet(self.observation_space, self.action_space, **kwargs).to(self.device)

    def _get_torch_save_params(self) -> tuple[list[str], list[str]]:
        return ["policy", "reward_net"], []

    # ------------------------------------------------------------------ imitation's pieces
    def _make_gatherer(self, rng: Any, imitation_logger: Any) -> Any:
        """The gatherer named by ``preference_gatherer``, saving each answer into ``preferences``."""
        from sb3_behave.preferences.gatherer import PersonGatherer, RecordingGatherer

        metadata = {"env_id": self._env_id(), "fragment_length": self.fragment_length}
        if self.preference_gatherer == "person":
            kwargs = {k: v for k, v in self.gatherer_kwargs.items() if k != "frame_height"}
            return PersonGatherer(
                self.preferences, total=self.total_comparisons, metadata=metadata, custom_logger=imitation_logger, **kwargs
            )
        from imitation.algorithms.preference_comparisons import SyntheticGatherer

        synthetic = SyntheticGatherer(rng=rng, custom_logger=imitation_logger, **self.gatherer_kwargs)
        return RecordingGatherer(synthetic, self.preferences, metadata=metadata)

    def _env_id(self) -> str | None:
        try:
            spec = self.env.get_attr("spec", [0])[0] if self.env is not None else None
        except AttributeError:
            spec = None
        return None if spec is None else spec.id

    def _load_answers(self) -> tuple[list[Any], Any]:
        from sb3_behave.preferences.storage import load_preferences

        if self.preferences is None or not Path(self.preferences).is_dir():
            return [], []
        return load_preferences(self.preferences, env=self.env)

    def learn(
        self: SelfPreferenceComparisons,
        total_timesteps: int,
        callback: MaybeCallback = None,
        log_interval: int = 1,
        tb_log_name: str = "",
        reset_num_timesteps: bool = True,
        progress_bar: bool = False,
    ) -> SelfPreferenceComparisons:
        """Ask for preferences, train the reward model on them, train the policy on the reward model; repeat.

        :param total_timesteps: training env steps of the generator (the steps sampled for fragments come on top)
        :param callback: SB3 callback(s), called after every env step of the generator
        :param log_interval: unused (imitation writes its metrics after every iteration)
        :param tb_log_name: name of the TensorBoard run (the algorithm's name by default)
        :param reset_num_timesteps: start counting from 0 (False to continue a run)
        :param progress_bar: show a progress bar
        """
        from imitation.algorithms import preference_comparisons as pc

        from sb3_behave.preferences.frames import DEFAULT_FRAME_HEIGHT, RenderedFrames, RenderingAgentTrainer
        from sb3_behave.preferences.reward import AnsweredPreferences, PairFragmenter, make_reward_trainer
        from sb3_behave.preferences.window import ComparisonStopped

        assert self.env is not None, f"{self.algo_name} needs an env to learn"
        answered_pairs, answers = self._load_answers()
        self._stop_requested = False
        tb_log_name = tb_log_name or type(self).__name__
        total_timesteps, callback = self._setup_learn(
            total_timesteps, callback, reset_num_timesteps, tb_log_name, progress_bar
        )
        callback.on_training_start(locals(), globals())
        imitation_logger = self._imitation_logger()
        rng = self._rng()
        gatherer = self._make_gatherer(rng, imitation_logger)
        callbacks = [ForwardCallback(self, callback)]
        # What the generator is paid; the reward trainer fits self.reward_net itself.
        reward_fn = positive_reward_net(self.reward_net) if self.generator_reward == "positive" else self.reward_net
        if self.preference_gatherer == "person":
            # Frames only for the steps fragments are cut from: training steps are many, and imitation
            # keeps each buffered step's info until the next sample.
            height = self.gatherer_kwargs.get("frame_height", DEFAULT_FRAME_HEIGHT)
            agent: pc.AgentTrainer = RenderingAgentTrainer(
                self._make_generator(),
                reward_fn,
                RenderedFrames(self.env, max_height=height),
                rng=rng,
                exploration_frac=self.exploration_frac,
                custom_logger=imitation_logger,
            )
            callbacks.append(_IdleWindow(gatherer.window))
        else:
            agent = pc.AgentTrainer(
                self._make_generator(),
                reward_fn,
                self.env,
                rng=rng,
                exploration_frac=self.exploration_frac,
                custom_logger=imitation_logger,
            )
        # The zoo's callbacks see every env step of the generator, beside imitation's own reward logging.
        agent.log_callback = CallbackList([agent.log_callback, *callbacks])
        trainer = pc.PreferenceComparisons(
            agent,
            self.reward_net,
            num_iterations=self.num_iterations,
            fragmenter=PairFragmenter(rng, warning_threshold=0, custom_logger=imitation_logger),
            preference_gatherer=gatherer,
            reward_trainer=make_reward_trainer(
                self.reward_net,
                rng,
                epochs=self.reward_epochs,
                learning_rate=self.reward_learning_rate,
                batch_size=self.reward_batch_size,
                custom_logger=imitation_logger,
            ),
            fragment_length=self.fragment_length,
            transition_oversampling=self.transition_oversampling,
            initial_comparison_frac=self.initial_comparison_frac,
            initial_epoch_multiplier=self.initial_epoch_multiplier,
            custom_logger=imitation_logger,
            allow_variable_horizon=self.allow_variable_horizon,
            query_schedule=self.query_schedule,
        )
        trainer._iteration = self.iteration  # imitation's TensorBoard step goes on across runs
        trainer.dataset = AnsweredPreferences(max_size=self.comparison_queue_size)
        if answered_pairs:
            trainer.dataset.push(answered_pairs, answers)
        comparisons = max(self.total_comparisons - len(answered_pairs), 0)
        # imitation trains the policy num_iterations + 1 times (once after the initial comparisons), each
        # for total // num_iterations steps: given n / (n + 1) of the steps, it takes about total_timesteps.
        steps = max(total_timesteps - self.num_timesteps, 0) * self.num_iterations // (self.num_iterations + 1)

        def after_iteration(iteration: int) -> None:
            self.iteration = iteration + 1
            if self._stop_requested:
                raise _Stop

        try:
            trainer.train(steps, comparisons, callback=after_iteration)
        except (_Stop, ComparisonStopped) as stop:
            if isinstance(stop, ComparisonStopped) and self.verbose >= 0:
                saved = f": the answers are in {self.preferences}; train again to resume" if self.preferences else ""
                print(f"{self.algo_name}: the comparison window was closed, training stops{saved}", flush=True)
        finally:
            if hasattr(gatherer, "close"):
                gatherer.close()
            self.comparisons = len(trainer.dataset)
        callback.on_training_end()
        return self


__all__ = ["GATHERERS", "QUERY_SCHEDULES", "PreferenceComparisons"]
