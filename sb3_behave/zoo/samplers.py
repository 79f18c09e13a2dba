"""Optuna search spaces for ``sb3-behave train -optimize`` with sb3-behave's algorithms.

Each sampler has the zoo's signature ``(trial, n_actions, n_envs, additional_args) -> hyperparameters``.
"""

from __future__ import annotations

from typing import Any

import optuna

NET_ARCHS = {"small": [32, 32], "medium": [64, 64], "large": [256, 256]}


def _net_arch(trial: optuna.Trial) -> dict[str, Any]:
    return {"net_arch": NET_ARCHS[trial.suggest_categorical("net_arch", list(NET_ARCHS))]}


def sample_bc_params(trial: optuna.Trial, n_actions: int, n_envs: int, additional_args: dict) -> dict[str, Any]:
    """BC: learning rate, batch size, entropy and L2 weights, network size."""
    return {
        "learning_rate": trial.suggest_float("learning_rate", 1e-4, 1e-2, log=True),
        "batch_size": trial.suggest_categorical("batch_size", [32, 64, 128, 256]),
        "ent_weight": trial.suggest_float("ent_weight", 1e-5, 1e-2, log=True),
        "l2_weight": trial.suggest_categorical("l2_weight", [0.0, 1e-5, 1e-4]),
        "policy_kwargs": _net_arch(trial),
    }


def sample_dagger_params(trial: optuna.Trial, n_actions: int, n_envs: int, additional_args: dict) -> dict[str, Any]:
    """DAgger: BC's search space plus the beta schedule and the BC epochs per round."""
    params = sample_bc_params(trial, n_actions, n_envs, additional_args)
    params["beta_rampdown"] = trial.suggest_categorical("beta_rampdown", [2, 5, 10, 15])
    params["bc_epochs_per_round"] = trial.suggest_categorical("bc_epochs_per_round", [1, 2, 4, 8])
    return params


def _generator_params(trial: optuna.Trial, n_envs: int) -> dict[str, Any]:
    """The PPO generator's settings (GAIL, AIRL, density, preference comparisons); a batch of at most one rollout."""
    n_steps = trial.suggest_categorical("n_steps", [64, 128, 256, 512, 1024])
    batch_size = trial.suggest_categorical("batch_size", [32, 64, 128, 256])
    return {
        "n_steps": n_steps,
        "batch_size": min(batch_size, n_steps * n_envs),
        "learning_rate": trial.suggest_float("learning_rate", 1e-5, 1e-3, log=True),
        "ent_coef": trial.suggest_float("ent_coef", 1e-8, 0.05, log=True),
        "gamma": trial.suggest_categorical("gamma", [0.9, 0.95, 0.98, 0.99]),
        "n_epochs": trial.suggest_categorical("n_epochs", [1, 5, 10]),
        "policy_kwargs": _net_arch(trial),
    }


def sample_adversarial_params(trial: optuna.Trial, n_actions: int, n_envs: int, additional_args: dict) -> dict[str, Any]:
    """GAIL and AIRL (PPO generator): discriminator and generator settings."""
    return {
        "demo_batch_size": trial.suggest_categorical("demo_batch_size", [256, 512, 1024, 2048]),
        "n_disc_updates_per_round": trial.suggest_categorical("n_disc_updates_per_round", [1, 2, 4, 8, 16]),
        "disc_learning_rate": trial.suggest_float("disc_learning_rate", 1e-5, 1e-3, log=True),
        **_generator_params(trial, n_envs),
    }


def sample_density_params(trial: optuna.Trial, n_actions: int, n_envs: int, additional_args: dict) -> dict[str, Any]:
    """Density-based reward (PPO generator): what the density is of, the kernel and its bandwidth."""
    return {
        "density_type": trial.suggest_categorical("density_type", ["state", "state_action", "state_state"]),
        "kernel": trial.suggest_categorical("kernel", ["gaussian", "exponential", "tophat"]),
        "kernel_bandwidth": trial.suggest_float("kernel_bandwidth", 0.05, 2.0, log=True),
        **_generator_params(trial, n_envs),
    }


def sample_preference_params(trial: optuna.Trial, n_actions: int, n_envs: int, additional_args: dict) -> dict[str, Any]:
    """Preference comparisons (PPO generator): fragments, comparisons per iteration, the reward model's training."""
    return {
        "fragment_length": trial.suggest_categorical("fragment_length", [10, 25, 50, 100]),
        "num_iterations": trial.suggest_categorical("num_iterations", [5, 10, 20, 40]),
        "initial_comparison_frac": trial.suggest_categorical("initial_comparison_frac", [0.05, 0.1, 0.2, 0.5]),
        "reward_learning_rate": trial.suggest_float("reward_learning_rate", 1e-4, 1e-2, log=True),
        "reward_epochs": trial.suggest_categorical("reward_epochs", [1, 3, 5, 10]),
        **_generator_params(trial, n_envs),
    }


def sample_sqil_params(trial: optuna.Trial, n_actions: int, n_envs: int, additional_args: dict) -> dict[str, Any]:
    """SQIL (DQN or SAC): learning rate, batch size, discount, update frequency and network size."""
    return {
        "learning_rate": trial.suggest_float("learning_rate", 1e-5, 1e-2, log=True),
        "batch_size": trial.suggest_categorical("batch_size", [32, 64, 128, 256]),
        "gamma": trial.suggest_categorical("gamma", [0.9, 0.95, 0.98, 0.99]),
        "train_freq": trial.suggest_categorical("train_freq", [1, 4, 8, 16]),
        "policy_kwargs": _net_arch(trial),
    }


def sample_valuedice_params(trial: optuna.Trial, n_actions: int, n_envs: int, additional_args: dict) -> dict[str, Any]:
    """ValueDICE: the two learning rates, the replay mixing weight alpha and the batch size."""
    return {
        "learning_rate": trial.suggest_float("learning_rate", 1e-6, 1e-3, log=True),
        "nu_learning_rate": trial.suggest_float("nu_learning_rate", 1e-5, 1e-2, log=True),
        "alpha": trial.suggest_categorical("alpha", [0.0, 0.05, 0.1, 0.2]),
        "batch_size": trial.suggest_categorical("batch_size", [64, 128, 256]),
        "policy_kwargs": _net_arch(trial),
    }


SAMPLERS = {
    "bc": sample_bc_params,
    "dagger": sample_dagger_params,
    "gail": sample_adversarial_params,
    "airl": sample_adversarial_params,
    "sqil": sample_sqil_params,
    "density": sample_density_params,
    "preference_comparisons": sample_preference_params,
    "valuedice": sample_valuedice_params,
}
