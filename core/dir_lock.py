"""One writing process per directory: a lock file inside it, locked with flock(2), which the kernel releases when
the process ends however it ends (kill -9 included), so a killed run never leaves the directory locked. The file
says who holds the lock (pid, host, start time, command), for the message a second process gets. It is removed
when the lock is released (a kill -9 leaves it, unlocked, for the next run to take); a process that locked a file
removed meanwhile locks the new one instead. A directory the lock created is removed again when the block fails
and leaves it empty: a refused command leaves nothing behind.

No TensorFlow here.
"""
import contextlib
import dataclasses
import errno
import fcntl
import json
import os
import shlex
import socket
import sys
import time

from core.errors import UserError
from core.progress import warn

LOCK_NAME = ".lock"
_HOLDER_BYTES = 4096  # the most of the lock file read back (it holds one short JSON object)
_ATTEMPTS = 100  # locks of a lock file removed meanwhile by its holder, before giving up
_COMMAND_CHARS = 500  # the most of the holder's command line shown


@dataclasses.dataclass
class Holder:
    """Who holds a directory's lock, as that process wrote it into the lock file."""
    pid: int
    host: str
    started: float  # time.time() when it took the lock
    command: str

    @classmethod
    def this_process(cls):
        command = " ".join(shlex.quote(arg) for arg in [os.path.basename(sys.executable)] + sys.argv)
        if len(command) > _COMMAND_CHARS:
            command = command[:_COMMAND_CHARS - 3] + "..."
        return cls(os.getpid(), socket.gethostname(), time.time(), command)

    def describe(self):
        """E.g. "pid 1234 on host gpu1 since 2025-06-01 10:12:03 (5 min ago): python train_image_classifier.py ..."."""
        ago = max(0.0, time.time() - self.started)
        return "pid %d on host %s since %s (%s ago): %s" % (
            self.pid, self.host, time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(self.started)),
            "%d min" % (ago // 60) if ago >= 60 else "%d s" % ago, self.command)


def read_holder(fd):
    """The Holder written in the lock file open as `fd`, or None when it says nothing readable (the holder is
    still writing it, or it was written by something else)."""
    try:
        value = json.loads(os.pread(fd, _HOLDER_BYTES, 0).decode("utf-8"))
        return Holder(int(value["pid"]), str(value["host"]), float(value["started"]), str(value["command"]))
    except (OSError, ValueError, KeyError, TypeError):
        return None


def check_directory(path, flag):
    """A UserError naming `flag` when `path` is empty, a file, or lies under a file: it could not be a directory."""
    if not path:
        raise UserError("%s is empty: give a directory (it is created if needed)" % flag)
    if os.path.lexists(path) and not os.path.isdir(path):
        raise UserError("%s %r is a file, not a directory: give a directory (it is created if needed)"
                        % (flag, path))
    blocking = _existing_file_above(path)
    if blocking:
        raise UserError("%s %r cannot be a directory: %r is a file; give a path whose folders are directories"
                        % (flag, path, blocking))


def ensure_directory(path, flag):
    """Creates the directory `path` (and its parents) if needed, and says whether it did; a UserError naming `flag`
    when it cannot."""
    check_directory(path, flag)
    if os.path.isdir(path):
        return False
    try:
        os.makedirs(path, exist_ok=True)
    except OSError as error:
        raise UserError("%s %r cannot be created (%s): give a directory this user can write to"
                        % (flag, path, error.strerror or error)) from None
    return True


def _existing_file_above(path):
    """The nearest folder above `path` that exists as something other than a directory, or None."""
    parent = os.path.dirname(os.path.abspath(path))
    while parent != os.path.dirname(parent):
        if os.path.lexists(parent) and not os.path.isdir(parent):
            return parent
        parent = os.path.dirname(parent)
    return None


@contextlib.contextmanager
def holding(directory, flag, purpose="training"):
    """Holds the lock of `directory` (created if needed) for the block: a UserError naming the process that holds
    it already (`flag` and `purpose` name the directory and what it is locked for in that message). Where the
    file system has no locks, one warning, and the block runs unlocked."""
    created = ensure_directory(directory, flag)
    path = os.path.join(directory, LOCK_NAME)
    fd = _lock(path, directory, flag, purpose)
    try:
        _write_holder(fd)
        yield
    except BaseException:
        _release(fd, path)
        if created:
            with contextlib.suppress(OSError):
                os.rmdir(directory)  # only when empty
        raise
    _release(fd, path)


def _open(path, directory, flag):
    try:
        return os.open(path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o644)
    except OSError as error:
        raise UserError("cannot open the lock file %r of %s %s (%s): give a directory this user can write to%s"
                        % (path, flag, directory, error.strerror or error,
                           "" if error.errno != errno.ELOOP else "; the lock file is a symbolic link: remove it"))


def _lock(path, directory, flag, purpose):
    """The descriptor of the lock file `path`, locked."""
    for _attempt in range(_ATTEMPTS):
        fd = _open(path, directory, flag)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = read_holder(fd)
            os.close(fd)
            raise UserError(
                "%s %s is in use by another %s process: %s. Two processes writing one directory would mix their "
                "checkpoints. Wait for it to finish, stop it%s, or pass another %s"
                % (flag, directory, purpose, holder.describe() if holder else "its details are not written yet",
                   " (kill %d on %s)" % (holder.pid, holder.host) if holder else "", flag)) from None
        except OSError as error:  # ENOLCK, EOPNOTSUPP: a file system without locks
            warn("cannot lock %s %s (%s): make sure that no other %s process writes into it"
                 % (flag, directory, error.strerror or error, purpose))
            return fd
        if _is_at(fd, path):
            return fd
        os.close(fd)  # its holder removed it as we opened it: lock the file now at `path`
    raise UserError("the lock file %r of %s %s keeps being replaced: make sure that nothing else writes into %s"
                    % (path, flag, directory, directory))


def _is_at(fd, path):
    """Whether the open file `fd` is still the file at `path`."""
    try:
        here, there = os.fstat(fd), os.lstat(path)
    except OSError:
        return False
    return (here.st_dev, here.st_ino) == (there.st_dev, there.st_ino)


def _release(fd, path):
    """Removes the lock file (while it is still locked, so that no one holds a file no longer there) and unlocks."""
    try:
        if _is_at(fd, path):
            os.remove(path)
    except OSError:
        pass  # a read-only directory: the lock file stays, unlocked
    finally:
        os.close(fd)


def _write_holder(fd):
    holder = Holder.this_process()
    data = json.dumps(dataclasses.asdict(holder)).encode("utf-8")
    try:
        os.ftruncate(fd, 0)
        os.pwrite(fd, data, 0)
    except OSError:
        pass  # a full disk: the lock holds all the same, only its message lacks the details
