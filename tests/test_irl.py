"""MCE IRL on toy-text envs: the tabular model, the recovered reward, ``sb3-behave irl`` and its example."""

import json
import re
import subprocess
import sys
from pathlib import Path

import gymnasium as gym
import matplotlib.pyplot as plt
import numpy as np
import pytest

from sb3_behave.cli import main
from sb3_behave.cli.common import parse_env_kwargs
from sb3_behave.irl import MCEIRLConfig, expected_return, run_mce_irl, tabular_model, uniform_policy

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
#: CliffWalking is -v1 on gymnasium 1.x, -v0 on 0.29.
CLIFF = "CliffWalking-v1" if "CliffWalking-v1" in gym.registry else "CliffWalking-v0"
#: Small settings: a 4x4 deterministic lake is crossed in 6 steps.
SMALL = MCEIRLConfig(demos=30, horizon=20, iterations=150, seed=0)


def folded(model, s, a):
    """``T[s, a]`` over the env's states (aliases added to the state they stand for)."""
    row = np.zeros(model.n_env_states)
    for target, prob in enumerate(model.transition_matrix[s, a]):
        if model.base_state[target] >= 0:
            row[model.base_state[target]] += prob
    return row


@pytest.mark.parametrize("env_id, kwargs", [("FrozenLake-v1", {"is_slippery": True}), (CLIFF, {})])
def test_tabular_model_is_the_p_table(env_id, kwargs):
    model = tabular_model(env_id, **kwargs)
    table = gym.make(env_id, **kwargs).unwrapped.P
    transitions = model.transition_matrix
    assert np.allclose(transitions.sum(axis=2), 1.0)
    terminal = set(model.terminal_states.tolist())
    for s in range(model.n_env_states):
        for a in range(model.n_actions):
            if s in terminal:  # absorbing: on to the end state, whatever the action
                assert transitions[s, a, model.end_state] == 1.0
                continue
            expected = np.zeros(model.n_env_states)
            for prob, next_state, _, _ in table[s][a]:
                expected[next_state] += prob
            assert np.allclose(folded(model, s, a), expected), (s, a)
    assert (transitions[model.end_state, :, model.end_state] == 1.0).all()
    assert model.reward[model.end_state] == 0.0  # nothing is earned after termination
    if env_id == "FrozenLake-v1":
        assert model.n_states == 17 and model.reward[15] == 1.0 and model.reward[:15].sum() == 0.0
        assert sorted(terminal) == [5, 7, 11, 12, 15]  # the holes and the goal
    else:  # a fall off the cliff: an alias of the start that costs -100 and moves on as the start does
        (alias,) = np.flatnonzero(model.base_state == 36)[1:]
        assert model.reward[alias] == -100.0 and model.reward[36] == -1.0
        assert np.array_equal(transitions[alias], transitions[36])
        assert model.grid.labels[37:47] == ("C",) * 10 and (model.grid.cell_states[37:47] == alias).all()


def test_exact_returns_are_the_env_returns():
    """The model's exact expected return of a random policy equals the mean return of random play in the env."""
    horizon, episodes = 60, 400
    model = tabular_model(CLIFF, horizon=horizon)
    exact = expected_return(model, uniform_policy(model))
    env = gym.make(CLIFF, max_episode_steps=horizon)
    rng = np.random.default_rng(0)
    returns = []
    for k in range(episodes):
        env.reset(seed=k)
        total, done = 0.0, False
        while not done:
            _, reward, terminated, truncated, _ = env.step(int(rng.integers(4)))
            total, done = total + reward, terminated or truncated
        returns.append(total)
    standard_error = np.std(returns) / np.sqrt(episodes)
    assert abs(np.mean(returns) - exact) < 4 * standard_error, (np.mean(returns), exact, standard_error)
    assert exact < -300  # falls cost -100 each: a -1 per step model would give about -60


def test_mce_irl_recovers_frozenlake_reward():
    model = tabular_model("FrozenLake-v1", horizon=SMALL.horizon, is_slippery=False)
    result = run_mce_irl(model, SMALL)
    assert result.expert_return > 0.99 and result.random_return < 0.05
    assert result.demo_return == 1.0  # every demonstration reaches the goal
    assert result.fraction >= 0.9, result.report()
    labels = np.asarray(model.grid.labels)
    cells = result.reward[: model.n_env_states]
    goal, holes = cells[labels == "G"].max(), cells[labels == "H"]
    assert goal > holes.max() + 3.0  # the goal ranks far above every hole
    assert result.iterations == SMALL.iterations and not result.converged
    # Without MCE IRL (the initial random reward), the soft-optimal policy is no better than random.
    untrained = run_mce_irl(model, MCEIRLConfig(demos=30, horizon=20, iterations=1, seed=0))
    assert untrained.fraction < 0.2


def test_config_checks_values():
    with pytest.raises(ValueError, match=r"discount=0.0: expected a number in \(0, 1\]"):
        MCEIRLConfig(discount=0.0)
    with pytest.raises(ValueError, match="demos=-1"):
        MCEIRLConfig(demos=-1)


def test_env_kwargs_forms():  # every command's --env-kwargs; the irl command's examples
    assert parse_env_kwargs(["is_slippery:False", "map_name:8x8"]) == {"is_slippery": False, "map_name": "8x8"}
    assert parse_env_kwargs(["is_slippery=false"]) == {"is_slippery": False}
    assert parse_env_kwargs(['{"map_name": "8x8", "is_slippery": true}']) == {"map_name": "8x8", "is_slippery": True}
    with pytest.raises(ValueError, match="'slippery' is not KEY=VALUE"):
        parse_env_kwargs(["slippery"])


def test_cli_writes_heat_map_and_results(tmp_path, capsys):
    out = tmp_path / "irl"
    args = ["irl", "--env-kwargs", "is_slippery:False", "--horizon", "20", "--demos", "30", "--iterations", "150"]
    assert main([*args, "--out", str(out), "--no-progress"]) == 0
    printed = capsys.readouterr().out
    assert (out / "reward.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    image = plt.imread(out / "reward.png")[..., :3]
    assert image.shape[0] > 200 and image.shape[1] > 400 and image.std() > 0.1
    results = json.loads((out / "results.json").read_text())
    assert results["env_kwargs"] == {"is_slippery": False} and results["settings"]["horizon"] == 20
    assert results["fraction_of_expert"] >= 0.9 and results["iterations"] == 150
    assert len(results["recovered_reward"]) == len(results["true_reward"]) == 17
    gap = results["expert_return"] - results["random_return"]
    assert results["fraction_of_expert"] == pytest.approx((results["learned_return"] - results["random_return"]) / gap)
    assert f"fraction of expert (learned - random) / (expert - random): {results['fraction_of_expert']:.3f}" in printed


def test_cli_refuses_a_non_tabular_env(tmp_path, capsys):
    assert main(["irl", "--env", "CartPole-v1", "--out", str(tmp_path / "irl")]) == 2
    error = capsys.readouterr().err.strip()
    assert "\n" not in error and "CartPole-v1" in error and "not a tabular env" in error and "env.unwrapped.P" in error
    assert not (tmp_path / "irl").exists()


def test_cli_names_a_misspelt_env_kwarg_in_one_line(tmp_path, capsys):
    assert main(["irl", "--env-kwargs", "is_slipery:False", "--out", str(tmp_path / "irl")]) == 2
    error = capsys.readouterr().err.strip()
    assert "\n" not in error and "is_slipery" in error and "FrozenLake-v1" in error
    assert not (tmp_path / "irl").exists()


def test_cli_refuses_an_existing_out(tmp_path, capsys):
    out = tmp_path / "irl"
    out.mkdir()
    (out / "results.json").write_text("earlier")
    assert main(["irl", "--out", str(out)]) == 2
    assert "--overwrite" in capsys.readouterr().err
    assert (out / "results.json").read_text() == "earlier"


def test_example_runs(tmp_path):
    args = ["--demos", "30", "--horizon", "20", "--iterations", "150", "--out", "reward.png"]
    out = subprocess.run(
        [sys.executable, str(EXAMPLES / "mce_irl_gridworld.py"), *args],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    fraction = float(re.search(r"fraction of expert .*?: ([-\d.]+)", out).group(1))
    goal, hole = (float(x) for x in re.search(r"goal ([-\d.]+), best hole ([-\d.]+)", out).groups())
    assert fraction >= 0.9 and goal > hole
    assert (tmp_path / "reward.png").stat().st_size > 10_000
