"""The steady Flappy Bird expert, and BC that fits: standardized observations, a decaying learning rate, rare actions."""

import itertools

import gymnasium as gym
import numpy as np
import pytest
import torch as th

from sb3_behave.agents import SKILL_PRESETS
from sb3_behave.demos import load_demonstrations, record_demonstrations
from sb3_behave.envs import FlappyBirdExpert, evaluate_flappy_policy
from sb3_behave.zoo import BC, DAgger
from sb3_behave.zoo.adapters.standardize import StandardizedFlatten, standardizers

FLAPPY = "sb3_behave/FlappyBird-v0"


class LateFlaps:
    """The expert, but each flap is missed (so made a frame or more late) with probability ``p``: a clumsy copy."""

    def __init__(self, expert: FlappyBirdExpert, p: float) -> None:
        self.expert, self.p, self.rng = expert, p, np.random.default_rng(0)

    def predict(self, obs, deterministic=True):
        actions = self.expert.act(obs)
        return np.where(self.rng.random(actions.shape) < self.p, 0, actions), None


def test_the_precise_style_is_the_default_expert_and_an_unknown_style_is_named():
    obs = gym.make(FLAPPY).observation_space
    obs.seed(0)
    batch = np.stack([obs.sample() for _ in range(2000)])
    assert (FlappyBirdExpert.from_style("precise").act(batch) == FlappyBirdExpert().act(batch)).all()
    with pytest.raises(ValueError, match="unknown expert style 'sloppy': expected one of steady, precise"):
        FlappyBirdExpert.from_style("sloppy")


def test_the_steady_expert_plays_whole_games_and_survives_late_flaps_that_kill_the_precise_one():
    steady, precise = FlappyBirdExpert.from_style("steady"), FlappyBirdExpert.from_style("precise")
    clean = evaluate_flappy_policy(steady, games=32, max_frames=10_000, seed=0)
    assert clean["score"] >= 250
    # A copy that misses 10% of the flaps: the steady expert's margins absorb a late frame.
    late_steady = evaluate_flappy_policy(LateFlaps(steady, 0.1), games=32, max_frames=10_000, seed=0)["score"]
    late_precise = evaluate_flappy_policy(LateFlaps(precise, 0.1), games=32, max_frames=10_000, seed=0)["score"]
    assert late_steady > 3 * late_precise
    assert late_steady > 50


def test_strong_records_the_steady_expert_and_precise_the_precise_one(tmp_path):
    assert SKILL_PRESETS["strong"].expert == "scripted" and SKILL_PRESETS["precise"].expert == "precise"
    for skill, style in (("strong", "steady"), ("precise", "precise")):
        record_demonstrations(FLAPPY, tmp_path / skill, episodes=1, skill=skill, max_episode_steps=600, progress_bar=False)
        (trajectory,) = load_demonstrations(tmp_path / skill, env=FLAPPY)
        expert = FlappyBirdExpert.from_style(style)
        assert (expert.act(trajectory.obs[:-1]) == trajectory.acts).all()
    steady_flaps = load_demonstrations(tmp_path / "strong", env=FLAPPY)[0].acts
    precise_flaps = load_demonstrations(tmp_path / "precise", env=FLAPPY)[0].acts
    assert not np.array_equal(steady_flaps, precise_flaps)


@pytest.fixture(scope="module")
def flappy_demos(tmp_path_factory):
    folder = tmp_path_factory.mktemp("demos") / "flappy"
    record_demonstrations(FLAPPY, folder, episodes=2, skill="strong", max_episode_steps=500, progress_bar=False)
    return folder


def test_standardization_is_fitted_on_the_demonstrations_saved_with_the_policy_and_applied_by_predict(flappy_demos, tmp_path):
    model = BC("MlpPolicy", FLAPPY, demonstrations=str(flappy_demos), batch_size=64, standardize_observations=True, seed=0)
    (extractor,) = standardizers(model.policy)
    assert not extractor.is_fitted
    model.learn(50)
    obs = np.concatenate([t.obs[:-1] for t in load_demonstrations(flappy_demos, env=FLAPPY)])
    assert extractor.is_fitted
    np.testing.assert_allclose(extractor.mean.numpy(), obs.mean(axis=0), rtol=1e-4, atol=1e-6)
    constant = obs.std(axis=0) < 1e-6  # a feature that never changes is centred only
    np.testing.assert_allclose(extractor.std.numpy()[~constant], obs.std(axis=0)[~constant], rtol=1e-4)
    assert (extractor.std.numpy()[constant] == 1.0).all()
    # The features the networks see are standardized.
    features = extractor(th.as_tensor(obs)).detach().numpy()
    np.testing.assert_allclose(features[:, ~constant].mean(axis=0), 0.0, atol=1e-4)
    np.testing.assert_allclose(features[:, ~constant].std(axis=0), 1.0, atol=1e-3)

    model.save(tmp_path / "bc.zip")
    loaded = BC.load(tmp_path / "bc.zip")
    (loaded_extractor,) = standardizers(loaded.policy)
    assert loaded_extractor.is_fitted
    np.testing.assert_array_equal(loaded_extractor.mean.numpy(), extractor.mean.numpy())
    probe = obs[::7]
    np.testing.assert_array_equal(loaded.predict(probe, deterministic=True)[0], model.predict(probe, deterministic=True)[0])
    # Training again keeps the statistics fitted first (the policy's inputs must not shift under it).
    before = extractor.mean.clone()
    model.learn(10, reset_num_timesteps=False)
    assert th.equal(extractor.mean, before)


def test_dagger_fits_the_standardization_on_its_first_round(tmp_path):
    env = gym.make(FLAPPY, max_episode_steps=300)
    model = DAgger(
        "MlpPolicy", env, expert="scripted", batch_size=64, standardize_observations=True,
        rollout_round_min_episodes=1, rollout_round_min_timesteps=300, bc_epochs_per_round=1, seed=0,
    )  # fmt: skip
    model.learn(300)
    (extractor,) = standardizers(model.policy)
    assert extractor.is_fitted
    assert (extractor.std.numpy() != 1.0).any()


def _learning_rates_set(cls, monkeypatch) -> list:
    """The learning rates ``cls`` gives its optimizer, in order (a spy on SB3's ``_update_learning_rate``)."""
    seen = []
    original = cls._update_learning_rate

    def spy(self, optimizers):
        original(self, optimizers)
        seen.append(optimizers.param_groups[0]["lr"])

    monkeypatch.setattr(cls, "_update_learning_rate", spy)
    return seen


def test_a_decaying_learning_rate_is_applied_at_every_gradient_step(flappy_demos, monkeypatch):
    seen = _learning_rates_set(BC, monkeypatch)
    model = BC("MlpPolicy", FLAPPY, demonstrations=str(flappy_demos), batch_size=64, learning_rate=lambda p: 1e-3 * p)
    model.learn(100)
    assert len(seen) == 100
    assert seen[0] == pytest.approx(1e-3 * 0.99) and seen[-1] == pytest.approx(0.0, abs=1e-12)
    assert all(a > b for a, b in itertools.pairwise(seen))


def test_dagger_moves_the_learning_rate_along_each_round_down_to_the_schedules_end(monkeypatch):
    used = []  # the learning rate of every gradient step, in order
    original = th.optim.Adam.step

    def spy(self, *args, **kwargs):
        used.append(self.param_groups[0]["lr"])
        return original(self, *args, **kwargs)

    monkeypatch.setattr(th.optim.Adam, "step", spy)
    starts = []  # the progress remaining at each round's start
    round_rates = DAgger._round_learning_rates
    monkeypatch.setattr(
        DAgger,
        "_round_learning_rates",
        lambda self, trainer, kwargs: starts.append(self._current_progress_remaining) or round_rates(self, trainer, kwargs),
    )
    model = DAgger(
        "MlpPolicy", gym.make(FLAPPY, max_episode_steps=200), expert="scripted", batch_size=64,
        learning_rate=lambda p: 1e-3 * p, rollout_round_min_episodes=1, rollout_round_min_timesteps=200,
        bc_epochs_per_round=2, seed=0,
    )  # fmt: skip
    model.learn(500)  # rounds of at least one game of up to 200 steps: the last one ends past 500
    assert model.num_timesteps > 500 and model.round_num >= 3 and len(starts) == model.round_num
    assert used[0] == pytest.approx(1e-3)  # the first step at the schedule's start
    assert all(a >= b for a, b in itertools.pairwise(used)) and min(used) >= 0.0
    # The rate moves within each round, not only between rounds...
    assert len(set(used)) > 2 * model.round_num
    # ...and the last round takes it from the schedule's value at its start towards 0 (where it ends).
    assert 0 < starts[-1] < 1 and used[-1] < 0.5 * 1e-3 * starts[-1]


def test_balance_actions_shows_rare_actions_as_often_as_common_ones(flappy_demos):
    demos = load_demonstrations(flappy_demos, env=FLAPPY)
    acts = np.concatenate([t.acts for t in demos])
    assert acts.mean() < 0.2  # flaps are rare in the demonstrations

    def flap_share(balance: float) -> float:
        model = BC("MlpPolicy", FLAPPY, demonstrations=str(flappy_demos), batch_size=64, balance_actions=balance, seed=0)
        loader = model._batches(demos, 64)
        return float(np.mean([batch["acts"].float().mean() for _, batch in zip(range(60), loader)]))

    assert flap_share(0.0) == pytest.approx(acts.mean(), abs=0.03)
    assert flap_share(1.0) == pytest.approx(0.5, abs=0.05)
    assert acts.mean() + 0.05 < flap_share(0.5) < 0.45


def test_bad_fitting_options_are_refused_with_their_names(flappy_demos):
    with pytest.raises(ValueError, match=r"balance_actions must be in \[0, 1\], got 2"):
        BC("MlpPolicy", FLAPPY, demonstrations=str(flappy_demos), balance_actions=2)
    with pytest.raises(ValueError, match=r"balance_actions weighs Discrete actions.*Box"):
        BC("MlpPolicy", "Pendulum-v1", balance_actions=0.5)
    from stable_baselines3.common.torch_layers import FlattenExtractor

    with pytest.raises(ValueError, match=r"names another \(FlattenExtractor\)"):
        BC("MlpPolicy", FLAPPY, standardize_observations=True, policy_kwargs={"features_extractor_class": FlattenExtractor})
    with pytest.raises(ValueError, match="needs a Box observation space, got Discrete"):
        StandardizedFlatten(gym.spaces.Discrete(3))


def test_transition_batches_show_every_transition_once_per_pass_in_a_new_order():
    from sb3_behave.training import TransitionBatches

    obs, acts = np.arange(1000, dtype=np.float32).reshape(-1, 1), np.arange(1000) % 2
    batches = TransitionBatches(obs, acts, batch_size=64, seed=3)
    first, second = list(batches), list(batches)
    assert len(batches) == len(first) == 15 and all(len(b["obs"]) == 64 for b in first)  # the partial batch dropped
    seen = np.concatenate([b["obs"].numpy()[:, 0] for b in first])
    assert len(set(seen)) == 960  # each transition at most once
    np.testing.assert_array_equal(np.concatenate([b["acts"].numpy() for b in first]), seen.astype(int) % 2)  # pairs kept
    assert not np.array_equal(seen, np.concatenate([b["obs"].numpy()[:, 0] for b in second]))  # a new order each pass
    again = TransitionBatches(obs, acts, batch_size=64, seed=3)
    np.testing.assert_array_equal(next(iter(again))["obs"], first[0]["obs"])  # the seed decides the order
    with pytest.raises(ValueError, match="1000 demonstrated transitions are fewer than the batch size 2048"):
        TransitionBatches(obs, acts, batch_size=2048)


@pytest.mark.parametrize("env_id", [FLAPPY, "Pendulum-v1"])
def test_the_bc_loss_without_the_critic_is_imitations_loss(env_id):
    """The loss bc_trainer gives imitation reads the actor alone: the same loss and gradients as with evaluate_actions."""
    from imitation.algorithms import bc

    from sb3_behave.training import bc_trainer

    model = BC("MlpPolicy", env_id, seed=0, policy_kwargs={"net_arch": [32, 32]})
    env = gym.make(env_id)
    obs = th.as_tensor(np.stack([env.observation_space.sample() for _ in range(128)]))
    acts = th.as_tensor(np.stack([env.action_space.sample() for _ in range(128)]))
    trainer = bc_trainer(model.policy, None, 64, 1e-3, np.random.default_rng(0), ent_weight=1e-2, l2_weight=1e-3)
    assert type(trainer.loss_calculator).__name__ == "ActorOnlyLoss" and trainer.loss_calculator.ent_weight == 1e-2
    reference = bc.BehaviorCloningLossCalculator(ent_weight=1e-2, l2_weight=1e-3)
    metrics, gradients = [], []
    for loss in (trainer.loss_calculator, reference):
        model.policy.zero_grad(set_to_none=True)
        metrics.append(loss(model.policy, obs, acts))
        metrics[-1].loss.backward()
        gradients.append([th.zeros_like(p) if p.grad is None else p.grad.clone() for p in model.policy.parameters()])
    for field in ("loss", "neglogp", "entropy", "l2_norm"):
        assert float(getattr(metrics[0], field)) == pytest.approx(float(getattr(metrics[1], field)), rel=1e-6), field
    for ours, theirs in zip(*gradients):
        th.testing.assert_close(ours, theirs)
    assert any(g.abs().sum() > 0 for g in gradients[0])
