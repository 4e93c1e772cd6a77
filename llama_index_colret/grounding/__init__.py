"""Grounding: propagate patch MaxSim onto region boxes and select the regions that answer (pure math)."""
