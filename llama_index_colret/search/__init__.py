"""Search: exact MaxSim over stored page vectors (pure scoring + chunked top-k over the store)."""
