"""Progress lines with rate and ETA: `RateMeter` counts, `PeriodicProgress` prints at most every few seconds.
`say` and `warn` print a line, its characters that are not printable escaped (core/text.py).
"""
import sys
import time

from core.text import printable


def format_duration(seconds):
    seconds = max(0, int(round(seconds)))
    return "%d:%02d:%02d" % (seconds // 3600, seconds % 3600 // 60, seconds % 60)


class RateMeter:
    """Counts work done since start; `line()` says how much, how fast and how long until `total`."""

    def __init__(self, total=None, unit="items"):
        self.total = total
        self.unit = unit
        self.start = time.monotonic()
        self.done = 0

    def update(self, count=1):
        self.done += count

    @property
    def elapsed(self):
        return time.monotonic() - self.start

    @property
    def rate(self):
        return self.done / self.elapsed if self.elapsed > 0 else 0.0

    def eta(self):
        if not self.total or not self.rate:
            return None
        return (self.total - self.done) / self.rate

    def line(self):
        text = "%d%s %s, %.1f %s/s" % (self.done, "/%d" % self.total if self.total else "", self.unit,
                                      self.rate, self.unit)
        eta = self.eta()
        if eta is not None:
            text += ", ETA %s" % format_duration(eta)
        return text


class PeriodicProgress:
    """Prints `VERB done/total unit, rate unit/s, ETA h:mm:ss` at most every `interval` seconds."""

    def __init__(self, total, verb, unit="images", log=None, interval=5.0):
        self.meter = RateMeter(total, unit)
        self.verb = verb
        self.log = log or say
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


def say(message):
    print(printable(message), flush=True)


def warn(message):
    print("warning: %s" % printable(message), file=sys.stderr, flush=True)
