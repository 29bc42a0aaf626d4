"""SIGINT (Ctrl-C) and SIGTERM (kill) as interrupts: the one mechanism of the scripts, the conversion and the
training loop.

`interrupts()` catches both signals while its block runs and yields an `Interrupts`:
- `deferred=False`: a signal raises KeyboardInterrupt at once, so `finally` clauses clean up (the
  conversion removes its temporaries, the scripts print "interrupted");
- `deferred=True`: the first signal is only remembered (`received` names it), so a loop can finish its
  step and save before leaving; a second one raises KeyboardInterrupt.
A KeyboardInterrupt raised while Python runs a finalizer (closing a pool's pipe, say) is swallowed there
with an "Exception ignored" report: the signal stays remembered, `check()` raises it again at the next
safe point, and that report is silenced.
Outside the main thread signals cannot be caught: the block runs with the handlers left alone.
"""
import contextlib
import signal
import sys
import threading

SIGNALS = (signal.SIGINT, signal.SIGTERM)


class Interrupts:
    def __init__(self, deferred):
        self.deferred = deferred
        self.received = None  # name of the first signal, e.g. "SIGTERM"

    def handle(self, signum, frame):
        first = self.received is None
        if first:
            self.received = signal.Signals(signum).name
        if not (self.deferred and first):
            self.check()

    def check(self):
        """Raises KeyboardInterrupt when a signal was received."""
        if self.received is not None:
            raise KeyboardInterrupt("terminated" if self.received == "SIGTERM" else "interrupted")


@contextlib.contextmanager
def interrupts(deferred=False):
    state = Interrupts(deferred)
    if threading.current_thread() is not threading.main_thread():
        yield state
        return
    previous_hook = sys.unraisablehook

    def unraisable(info):
        if not (state.received and isinstance(info.exc_value, KeyboardInterrupt)):
            previous_hook(info)

    previous = {signum: signal.signal(signum, state.handle) for signum in SIGNALS}
    sys.unraisablehook = unraisable
    try:
        yield state
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
        sys.unraisablehook = previous_hook
