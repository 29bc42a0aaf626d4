"""core/signals.py: SIGINT and SIGTERM raise at once or are deferred, and a signal swallowed by a finalizer
is raised again at the next check."""
import os
import signal

import pytest

from core import signals


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_a_signal_raises_keyboard_interrupt_and_the_handlers_come_back(signum):
    before = signal.getsignal(signum)
    with pytest.raises(KeyboardInterrupt):
        with signals.interrupts():
            os.kill(os.getpid(), signum)
            for _ in range(1000):
                pass
    assert signal.getsignal(signum) is before


def test_deferred_mode_remembers_the_first_signal_and_raises_on_the_second():
    with signals.interrupts(deferred=True) as state:
        os.kill(os.getpid(), signal.SIGTERM)
        assert state.received == "SIGTERM"
        with pytest.raises(KeyboardInterrupt):
            os.kill(os.getpid(), signal.SIGINT)
            for _ in range(1000):
                pass


def test_a_signal_swallowed_by_a_finalizer_is_raised_by_check(capsys):
    class Closing:
        def __del__(self):
            os.kill(os.getpid(), signal.SIGINT)  # the handler's KeyboardInterrupt is lost in __del__

    with signals.interrupts() as state:
        Closing()
        assert state.received == "SIGINT"
        with pytest.raises(KeyboardInterrupt):
            state.check()
    assert "Exception ignored" not in capsys.readouterr().err
