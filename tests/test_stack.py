"""The two dependency stacks: which one is installed, what differs between them, and the errors at their seams."""

import os
import subprocess
import sys
import warnings
from pathlib import Path

import gymnasium as gym
import numpy as np
import pytest

from sb3_behave.cli import main
from sb3_behave.stack import (
    IMITATION_INSTALL,
    describe,
    float_schedule,
    installed_versions,
    problems,
    stack_name,
)

NUMPY_2 = int(np.__version__.split(".")[0]) >= 2
#: A PPO CartPole-v1 run of the RL Zoo (with VecNormalize), saved under numpy 2 on the current stack.
NUMPY2_AGENTS = Path(__file__).resolve().parent / "data" / "numpy2_agents"
CURRENT = {
    "stable-baselines3": "2.9.2",
    "sb3-contrib": "2.9.2",
    "rl_zoo3": "2.9.2",
    "gymnasium": "1.4.0",
    "numpy": "2.4.6",
    "imitation": "1.0.1",
}
PINNED = {**CURRENT, "stable-baselines3": "2.2.1", "sb3-contrib": "2.2.1", "rl_zoo3": "2.2.1", "gymnasium": "0.29.1",
          "numpy": "1.26.4", "pyarrow": "24.0.0"}


def test_the_installed_versions_make_a_supported_stack():
    # `make test` says which stack it installed; without it, either supported stack will do.
    expected = os.environ.get("SB3_BEHAVE_STACK")
    name = stack_name()
    assert name == expected if expected else name in ("current", "pinned"), problems(expected or "current")
    assert describe().startswith(f"{name} stack: stable-baselines3 {installed_versions()['stable-baselines3']}")


def test_stack_requirements():
    assert stack_name(CURRENT) == "current" and problems("current", CURRENT) == []
    assert stack_name(PINNED) == "pinned" and problems("pinned", PINNED) == []
    mixed = {**PINNED, "numpy": "2.1.0"}
    assert stack_name(mixed) == "custom"
    assert problems("pinned", mixed) == ["numpy 2.1.0 (the pinned stack needs >= 1.22, < 2)"]
    assert problems("pinned", {**PINNED, "pyarrow": "26.0.1"}) == ["pyarrow 26.0.1 (the pinned stack needs < 25)"]
    missing = problems("current", {**CURRENT, "imitation": None})
    assert missing == ["imitation is not installed (the current stack needs 1.0.1)"]
    assert problems("current", {**CURRENT, "gymnasium": "1.2.0rc1"}) == []
    with pytest.raises(ValueError, match="unknown stack 'latest'"):
        problems("latest", CURRENT)


def test_the_stack_command_checks_what_is_installed():
    other = "pinned" if stack_name() == "current" else "current"
    run = [sys.executable, "-m", "sb3_behave.stack", "--check"]
    assert subprocess.run([*run, stack_name()], capture_output=True).returncode == 0
    refused = subprocess.run([*run, other], capture_output=True, text=True)
    assert refused.returncode == 1 and f"not the {other} stack: " in refused.stderr


def test_float_schedule_gives_sb3_schedules_without_a_deprecation_warning():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        constant, linear = float_schedule(3e-4), float_schedule(lambda progress: 0.1 * progress)
    assert constant(1.0) == constant(0.0) == pytest.approx(3e-4) and isinstance(constant(0.5), float)
    assert linear(0.5) == pytest.approx(0.05)


def _without(module: str, argv: list[str], tmp_path: Path) -> subprocess.CompletedProcess:
    """``sb3-behave ARGV`` in a fresh interpreter where ``module`` cannot be imported."""
    code = (
        "import sys\n"
        f"sys.modules[{module!r}] = None  # as if it were not installed\n"
        "from sb3_behave.cli import main\n"
        f"sys.exit(main({argv!r}))\n"
    )
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path)


@pytest.mark.parametrize(
    "argv",
    [
        ["demos", "info", "demos/strong"],
        ["record-demos", "--out", "demos"],
        ["train", "--algo", "gail", "--env", "CartPole-v1", "-conf", "gail.yml"],
        ["enjoy", "--algo", "bc", "--env", "CartPole-v1"],
    ],
    ids=lambda argv: argv[0],
)
def test_a_missing_imitation_is_one_line_naming_the_command(argv, tmp_path):
    result = _without("imitation", argv, tmp_path)
    assert result.returncode == 2 and result.stderr.count("\n") == 1, result.stderr
    assert "sb3-behave needs the imitation library" in result.stderr
    assert IMITATION_INSTALL in result.stderr and "sb3-behave[pinned]" in result.stderr
    assert not (tmp_path / "demos").exists()


def test_what_does_not_need_imitation_works_without_it(tmp_path):
    for argv in (["--version"], ["--help"], ["bench", "env", "--help"], ["train", "--help"]):
        result = _without("imitation", argv, tmp_path)
        assert result.returncode == 0 and "imitation" not in result.stderr, (argv, result.stderr)
    assert "stack" in _without("imitation", ["--version"], tmp_path).stdout
    # The env, the VecEnv and the zoo's own algorithms.
    code = (
        "import sys\nsys.modules['imitation'] = None\nimport sb3_behave, gymnasium\n"
        "gymnasium.make('sb3_behave/FlappyBird-v0')\n"
        "from sb3_behave.zoo import load_agent\n"
        "print(type(load_agent('ppo', 'sb3_behave/FlappyBird-v0', hub=False)).__name__)\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0 and result.stdout.splitlines()[-1] == "PPO", result.stderr
    code = "import sys\nsys.modules['imitation'] = None\nfrom sb3_behave.zoo import BC\nBC('MlpPolicy', 'CartPole-v1')\n"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert "MissingImitationError: sb3-behave needs the imitation library" in result.stderr


def test_a_missing_minari_is_one_line_naming_the_extra(tmp_path):
    from sb3_behave.demos import record_demonstrations

    record_demonstrations("CartPole-v1", tmp_path / "demos", episodes=1, expert="random", progress_bar=False)
    result = _without("minari", ["demos", "export", "demos", "--format", "minari", "--out", "cartpole-v0"], tmp_path)
    assert result.returncode == 2 and result.stderr.count("\n") == 1, result.stderr
    assert "Minari datasets need the minari package: pip install 'sb3-behave[minari]'" in result.stderr
    # A Minari dataset folder (as minari writes one) is recognised, and the missing package named.
    (tmp_path / "ds" / "data").mkdir(parents=True)
    (tmp_path / "ds" / "data" / "metadata.json").write_text('{"data_format": "hdf5", "minari_version": "0.5.4"}')
    result = _without("minari", ["demos", "info", "ds"], tmp_path)
    assert result.returncode == 2 and "pip install 'sb3-behave[minari]'" in result.stderr, result.stderr


def test_an_agent_saved_under_numpy_2(tmp_path, capsys, monkeypatch):
    """Loads on numpy 2; under numpy 1 every loader says what happened in one line."""
    from sb3_behave.zoo import load_agent, load_agent_from_path

    run = NUMPY2_AGENTS / "ppo" / "CartPole-v1_1"
    monkeypatch.chdir(tmp_path)
    enjoy = ["enjoy", "--algo", "ppo", "--env", "CartPole-v1", "-f", str(NUMPY2_AGENTS), "-n", "20", "--no-render"]
    record = ["record-demos", "--env", "CartPole-v1", "--expert", str(run), "--episodes", "1", "--out", "demos"]
    if NUMPY_2:
        model, normalize = load_agent_from_path(run, gym.make("CartPole-v1"))
        assert normalize is not None and normalize.obs_rms.count > 1  # the run's statistics
        assert load_agent("ppo", "CartPole-v1", NUMPY2_AGENTS, hub=False).predict(np.zeros((1, 4)))[0].shape == (1,)
        assert main(enjoy) == 0 and main(record) == 0
        return
    message = r"this agent was saved with numpy 2 and cannot be loaded with numpy 1\.\d+\.\d+ \(the imitation-pinned stack\)"
    with pytest.raises(ValueError, match=rf"CartPole-v1_1: {message}"):
        load_agent_from_path(run, gym.make("CartPole-v1"))
    with pytest.raises(ValueError, match=message):
        load_agent("ppo", "CartPole-v1", NUMPY2_AGENTS, hub=False)
    capsys.readouterr()
    for argv in (enjoy, record):
        assert main(argv) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and "saved with numpy 2" in err, err
    assert not (tmp_path / "demos").exists()


@pytest.mark.parametrize(
    "argv",
    [
        ["play", "--record", "demos/alice"],
        ["compare", "--env", "CartPole-v1", "--agent", "random", "--queries", "1", "--out", "p"],
    ],
    ids=lambda argv: argv[0],
)
def test_a_missing_pygame_is_one_line_naming_the_extra(argv, tmp_path):
    result = _without("pygame", argv, tmp_path)
    assert result.returncode == 2 and result.stderr.count("\n") == 1, result.stderr
    assert "needs the pygame module, which is not installed" in result.stderr
    assert "pip install 'sb3-behave[render]'" in result.stderr and "pip install pygame" in result.stderr


def test_without_pygame_the_game_plays_and_records_but_does_not_draw(tmp_path):
    # sb3-behave depends on no pygame distribution: the features game, the VecEnv and recording need none.
    code = (
        "import sys\nsys.modules['pygame'] = None\nimport gymnasium, sb3_behave\n"
        "from sb3_behave.demos import record_demonstrations\n"
        "record_demonstrations('sb3_behave/FlappyBird-v0', 'demos', episodes=1, expert='scripted', max_episode_steps=200,"
        " progress_bar=False)\n"
        "env = gymnasium.make('sb3_behave/FlappyBird-v0', render_mode='rgb_array'); env.reset(seed=0)\n"
        "try:\n    env.render()\nexcept ImportError as error:\n    print(type(error).__name__, error)\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert len(list((tmp_path / "demos").glob("episode-*.npz"))) == 1
    assert result.stdout.startswith("MissingDependencyError drawing Flappy Bird needs the pygame module"), result.stdout


def test_two_pygame_distributions_are_a_problem_one_is_not():
    from sb3_behave.stack import pygame_problems

    assert pygame_problems(["pygame-ce"]) == [] and pygame_problems(["pygame"]) == [] and pygame_problems([]) == []
    (problem,) = pygame_problems(["pygame-ce", "pygame"])
    assert "both pygame-ce and pygame are installed" in problem
