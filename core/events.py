"""TensorBoard event files that may fail to be written (disk full) without stopping the run.

TensorFlow's FileWriter writes from a thread; when a write fails, the thread re-raises the error (which
Python's threading hook prints as a traceback) and hands it to the next add or close of the writer.
`EventsWriter` turns it into one warning, and hides that thread's traceback.

TensorFlow names an event file after the second it was opened and the host: two writers opened in the same
second in one folder (evaluations of one run, seconds apart) would write the same file, the second
truncating the first. Each writer's file name therefore ends with the process id and a counter.
"""
import itertools
import os
import threading

from core.compat import tf
from core.errors import os_reason
from core.progress import warn

_WRITER_THREAD = "EventLoggerThread"  # the name of TensorFlow's writer thread
_WRITERS = itertools.count()  # this process's writers, for unique file names


def _hide_writer_thread_tracebacks():
    previous = threading.excepthook
    if getattr(previous, "hides_event_writer_errors", False):
        return

    def hook(args):
        if args.thread is None or args.thread.name != _WRITER_THREAD:
            previous(args)
    hook.hides_event_writer_errors = True
    threading.excepthook = hook


class EventsWriter:
    """tf.summary.FileWriter's add_summary and close; after a failure, one warning and nothing more."""

    def __init__(self, logdir, graph=None):
        _hide_writer_thread_tracebacks()
        self.logdir, self._writer = logdir, None
        try:
            self._writer = tf.summary.FileWriter(logdir, graph,
                                                 filename_suffix=".%d.%d" % (os.getpid(), next(_WRITERS)))
        except Exception as error:  # noqa: BLE001 (see _fail)
            self._fail(error)

    def add_summary(self, summary, step):
        if self._writer is not None:
            try:
                self._writer.add_summary(summary, step)
            except Exception as error:  # noqa: BLE001
                self._fail(error)

    def close(self):
        if self._writer is not None:
            try:
                self._writer.close()
            except Exception as error:  # noqa: BLE001
                self._fail(error)

    def _fail(self, error):
        """The writer's errors come from its thread, of whatever type its file layer raised."""
        self._writer = None
        warn("TensorBoard events can no longer be written to %s (%s)" % (self.logdir, os_reason(error)))
