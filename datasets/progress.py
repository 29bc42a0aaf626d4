"""Periodic progress lines for long loops: count, rate and ETA."""
import time


def format_seconds(seconds):
    seconds = int(round(seconds))
    hours, rest = divmod(seconds, 3600)
    minutes, seconds = divmod(rest, 60)
    return "%d:%02d:%02d" % (hours, minutes, seconds) if hours else "%d:%02d" % (minutes, seconds)


class Progress:
    """Prints `VERB done/total (rate/s, ETA m:ss)` at most every `interval` seconds."""

    def __init__(self, total, verb, log=print, interval=5.0, unit="images"):
        self.total = total
        self.verb = verb
        self.unit = unit
        self.log = log
        self.interval = interval
        self.count = 0
        self.start = time.monotonic()
        self._last = self.start
        self._printed = False

    def rate(self):
        elapsed = time.monotonic() - self.start
        return self.count / elapsed if elapsed > 0 else 0.0

    def update(self, n=1):
        self.count += n
        now = time.monotonic()
        if now - self._last >= self.interval and self.count < self.total:
            self._last = now
            rate = self.rate()
            eta = (self.total - self.count) / rate if rate > 0 else 0.0
            self.log("%s %d/%d %s (%.0f/s, ETA %s)"
                     % (self.verb, self.count, self.total, self.unit, rate, format_seconds(eta)))
            self._printed = True

    def done(self):
        """Closes the series of lines with the total time, if any line was printed."""
        if self._printed:
            elapsed = time.monotonic() - self.start
            self.log("%s %d/%d %s in %s (%.0f/s)"
                     % (self.verb, self.count, self.total, self.unit, format_seconds(elapsed), self.rate()))
