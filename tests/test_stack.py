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
          "numpy": "1.26.4"}


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


def test_a_missing_imitation_is_one_line_naming_the_command():
    code = (
        "import sys\n"
        "sys.modules['imitation'] = None  # as if imitation were not installed\n"
        "from sb3_behave.cli import main\n"
        "sys.exit(main(['demos', 'info', 'demos/strong']))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 2 and result.stderr.count("\n") == 1, result.stderr
    assert result.stderr.startswith("sb3-behave: error: sb3-behave needs the imitation library")
    assert IMITATION_INSTALL in result.stderr and "sb3-behave[pinned]" in result.stderr
    # The env does not need imitation.
    code = "import sys\nsys.modules['imitation'] = None\nimport sb3_behave, gymnasium\n"
    code += "gymnasium.make('sb3_behave/FlappyBird-v0')\n"
    assert subprocess.run([sys.executable, "-c", code], capture_output=True).returncode == 0


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
