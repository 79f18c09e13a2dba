"""RL Zoo integration: loading trained agents (more to come: algorithms for rl_zoo3 train)."""

from sb3_behave.zoo.agents import load_agent_from_path

__all__ = ["load_agent_from_path"]
