"""When a training run writes its detail summaries (histograms, input images: engine/training/summaries.py),
so that they cost at most a small share of its time whatever the model's size.

A summary step also writes the details when what they cost so far, plus what they are expected to cost
this time, stays within `DETAIL_SHARE` of the time since the loop started (that time included); the last
step of a run writes them whatever the budget, so that every run leaves its final histograms. A detail
write costs its step's time minus the median of the recent steps without details; before the first one is
measured, it is expected to cost as much as such a step. A histogram of every tensor of inception_v3
(23M weights, 16M activations at 250 px, batch 8) costs about half a step: a run of 1000 steps with a
summary every 100 writes them each time, one of 28 steps at its last step only.
"""
import collections
import statistics

DETAIL_SHARE = 0.02
_RECENT_STEPS = 9


class DetailBudget:
    """`allows(now, last)` before a summary step, `record(seconds, details)` after every step."""

    def __init__(self, start, share=DETAIL_SHARE):
        self.start, self.share = start, share
        self.spent = 0.0  # seconds the detail writes cost so far
        self.cost = None  # the last one's
        self.plain = collections.deque(maxlen=_RECENT_STEPS)  # recent steps without details, seconds

    def expected_cost(self):
        if self.cost is not None:
            return self.cost
        return statistics.median(self.plain) if self.plain else None

    def allows(self, now, last=False):
        """Whether the summary step about to run at time `now` (time.monotonic) writes the details."""
        if last:
            return True
        expected = self.expected_cost()
        return expected is not None and self.spent + expected <= self.share * (now - self.start + expected)

    def record(self, seconds, details):
        """A step took `seconds`, writing the details or not."""
        if not details:
            self.plain.append(seconds)
            return
        self.cost = max(0.0, seconds - (statistics.median(self.plain) if self.plain else 0.0))
        self.spent += self.cost
