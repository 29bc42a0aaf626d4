"""Periodic progress lines for the dataset tools, on top of engine.progress's RateMeter."""
import time

from engine.progress import RateMeter, say


class PeriodicProgress:
    """Prints `VERB done/total unit, rate unit/s, ETA h:mm:ss` at most every `interval` seconds."""

    def __init__(self, total, verb, unit="images", log=say, interval=5.0):
        self.meter = RateMeter(total, unit)
        self.verb = verb
        self.log = log
        self.interval = interval
        self._last = time.monotonic()
        self._printed = False

    def update(self, count=1):
        self.meter.update(count)
        now = time.monotonic()
        if now - self._last >= self.interval and self.meter.done < (self.meter.total or 0):
            self._last = now
            self._printed = True
            self.log("%s %s" % (self.verb, self.meter.line()))

    def done(self):
        """Closes a series of lines with the final count and rate (silent when nothing was printed)."""
        if self._printed:
            self.log("%s %d %s in %.1fs, %.1f %s/s" % (self.verb, self.meter.done, self.meter.unit,
                                                     self.meter.elapsed, self.meter.rate, self.meter.unit))
