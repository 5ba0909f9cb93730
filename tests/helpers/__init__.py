"""Helpers shared by the tests: tiny data dirs, corpus replicas, exp dirs, model configs."""
