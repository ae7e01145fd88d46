"""Watch a stream for a change in its mean with ADWIN (harper_edge.Adwin)."""

import numpy as np

import harper_edge

adwin = harper_edge.Adwin(delta=0.002)
before = np.random.default_rng(1).uniform(0.0, 0.2, 2000)
after = np.random.default_rng(2).uniform(0.5, 0.7, 2000)
cuts = adwin.update_many(np.r_[before, after])  # positions after which the window was cut
print(f"first cut after value {cuts[0]}, window mean now {adwin.mean:.2f}")
assert 2000 <= cuts[0] < 2100 and adwin.mean > 0.5

state = adwin.to_json()  # save it, and resume later:
resumed = harper_edge.Adwin.from_json(state)
assert resumed.width == adwin.width
