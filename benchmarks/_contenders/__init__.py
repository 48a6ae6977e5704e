"""One module per contender; each `run(...)` trains, predicts and returns a dict of timings."""
