"""``loom demo``: the whole stack, scripted, checked step by step."""
