"""Finding and reading a class's submissions, which are untrusted input.

SUBMISSIONS holds one folder per student. A notebook is found as `<student>/<NN-slug>.ipynb` or one
folder down, as nbgrader collects it: `<student>/<assignment>/<NN-slug>.ipynb`. Everything else
directly under SUBMISSIONS (a file, a link, an empty folder) is still a student, who gets rows and
reasons rather than silence.

Nothing is opened the way it is named: each folder and file is opened relative to its parent's file
descriptor without following links (O_NOFOLLOW), files without blocking (O_NONBLOCK), and only a
regular file with one name and at most MAX_NOTEBOOK_BYTES is read. A link to /etc/shadow, to the
solutions or to a classmate's notebook, a named pipe or a device earns a reason that names the kind
of file, never a byte of it.
"""

import json
import os
import stat
import warnings
from dataclasses import dataclass, field

MAX_NOTEBOOK_BYTES = 20 * 2 ** 20
# Made by file managers and archivers, never by a student: listed in problems.csv, not given rows.
CLUTTER = {".DS_Store", "Thumbs.db", "desktop.ini", ".ipynb_checkpoints", "__MACOSX"}
LAYOUT = "SUBMISSIONS/<student>/<NN-slug>.ipynb or SUBMISSIONS/<student>/<assignment>/<NN-slug>.ipynb"


class Unreadable(Exception):
    """A submitted file that is not read; the message is the reason, naming only the kind of file."""


@dataclass
class Handed:
    """One exercise's notebook as found: its path under SUBMISSIONS, as parts, and a note on other copies."""

    stem: str
    parts: tuple
    note: str = ""

    @property
    def shown(self):
        """Its path within the student's folder, printable."""
        return "/".join(display_name(p) for p in self.parts[1:])


@dataclass
class Student:
    """One entry directly under SUBMISSIONS."""

    name: str  # as on disk: the feedback folder gets the same name
    problem: str = ""  # why nothing in it can be graded (not a folder, a link)
    handed: dict = field(default_factory=dict)  # stem -> Handed
    others: list = field(default_factory=list)  # printable names of everything else it holds

    @property
    def shown(self):
        return display_name(self.name)


def display_name(name):
    """A file name as text safe to print: undecodable bytes and control or bidi characters escaped."""
    name = os.fsencode(name).decode("utf-8", errors="backslashreplace")
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in name)


def kind(mode):
    """What a file that is not a regular file is, in words."""
    for test, words in ((stat.S_ISLNK, "a symbolic link"), (stat.S_ISDIR, "a folder"),
                        (stat.S_ISFIFO, "a named pipe (FIFO)"), (stat.S_ISCHR, "a device file"),
                        (stat.S_ISBLK, "a device file"), (stat.S_ISSOCK, "a socket")):
        if test(mode):
            return words
    return "not a regular file"


def _lstat(name, dir_fd):
    return os.stat(name, dir_fd=dir_fd, follow_symlinks=False)


def _is_folder(name, dir_fd):
    try:
        return stat.S_ISDIR(_lstat(name, dir_fd).st_mode)
    except OSError:  # gone since it was listed
        return False


def _open_folder(name, dir_fd):
    return os.open(name, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC, dir_fd=dir_fd)


def _names(fd):
    return sorted(entry.name for entry in os.scandir(fd))


def scan(folder, stems):
    """Every entry of SUBMISSIONS as a Student, with the notebooks named after one of `stems` it holds.

    Returns (students, clutter): clutter are names of file-manager leftovers, which get no rows.
    """
    students, clutter = [], []
    top = os.open(folder, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        for name in _names(top):
            if name in CLUTTER:
                clutter.append(display_name(name))
                continue
            students.append(_scan_student(top, name, stems))
    finally:
        os.close(top)
    return students, clutter


def _scan_student(top, name, stems):
    student = Student(name)
    try:
        mode = _lstat(name, top).st_mode
    except OSError as err:
        student.problem = f"SUBMISSIONS/{student.shown} could not be read ({os.strerror(err.errno)})"
        return student
    if not stat.S_ISDIR(mode):
        what = kind(mode) if not stat.S_ISREG(mode) else "a file"
        student.problem = f"SUBMISSIONS/{student.shown} is {what}, not a student's folder: expected {LAYOUT}"
        return student
    try:
        fd = _open_folder(name, top)
    except OSError as err:
        student.problem = f"SUBMISSIONS/{student.shown} could not be opened ({os.strerror(err.errno)})"
        return student
    found = {}  # stem -> [parts]
    try:
        for entry in _names(fd):
            if entry.startswith("."):
                continue  # checkpoints and other hidden files are not hand-ins
            stem, is_notebook = entry[:-len(".ipynb")], entry.endswith(".ipynb")
            if is_notebook and stem in stems:
                found.setdefault(stem, []).append((name, entry))
            elif _is_folder(entry, fd):
                _scan_assignment(fd, name, entry, stems, found, student.others)
            else:
                student.others.append(display_name(entry))
    finally:
        os.close(fd)
    for stem, copies in found.items():
        copies.sort(key=len)  # a notebook directly in the student's folder first, then by assignment folder
        handed = Handed(stem, copies[0])
        if len(copies) > 1:
            others = ", ".join("/".join(display_name(p) for p in c[1:]) for c in copies[1:])
            handed.note = f"also handed in as {others}; graded {handed.shown}"
        student.handed[stem] = handed
    return student


def _scan_assignment(student_fd, student, folder, stems, found, others):
    """nbgrader's layout: <student>/<assignment>/<NN-slug>.ipynb."""
    try:
        fd = _open_folder(folder, student_fd)
    except OSError:
        others.append(display_name(folder) + "/")
        return
    try:
        names = [n for n in _names(fd) if not n.startswith(".")]
    finally:
        os.close(fd)
    for entry in names:
        if entry.endswith(".ipynb") and entry[:-len(".ipynb")] in stems:
            found.setdefault(entry[:-len(".ipynb")], []).append((student, folder, entry))
        elif entry != "timestamp.txt":  # nbgrader's own
            others.append(f"{display_name(folder)}/{display_name(entry)}")
    if not names:
        others.append(display_name(folder) + "/ (empty)")


def read_notebook(folder, parts, limit=MAX_NOTEBOOK_BYTES):
    """The bytes of SUBMISSIONS/<parts...>, read safely; raises Unreadable with the reason otherwise."""
    shown = "/".join(display_name(p) for p in parts[1:])
    fds = [os.open(folder, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)]
    try:
        for part in parts[:-1]:
            try:
                fds.append(_open_folder(part, fds[-1]))
            except OSError as err:
                raise Unreadable(f"the folder holding {shown} could not be opened ({os.strerror(err.errno)})") from None
        try:
            mode = _lstat(parts[-1], fds[-1]).st_mode
        except OSError as err:
            raise Unreadable(f"{shown} could not be read ({os.strerror(err.errno)})") from None
        if not stat.S_ISREG(mode):
            raise Unreadable(f"{shown} is {kind(mode)}, not a regular file: hand in the notebook itself")
        try:
            fd = os.open(parts[-1], os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_NOCTTY | os.O_CLOEXEC,
                         dir_fd=fds[-1])
        except OSError as err:
            raise Unreadable(f"{shown} could not be opened ({os.strerror(err.errno)})") from None
        fds.append(fd)
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):  # replaced between the look and the open
            raise Unreadable(f"{shown} is {kind(info.st_mode)}, not a regular file: hand in the notebook itself")
        if info.st_nlink > 1:
            raise Unreadable(f"{shown} is a hard link shared with {info.st_nlink - 1} other name(s), not a file of "
                             "its own: hand in a copy of the notebook itself")
        if info.st_size > limit:
            raise Unreadable(f"{shown} is {info.st_size / 2 ** 20:.1f} MB, more than the {limit / 2 ** 20:g} MB a "
                             "notebook may be: clear its outputs (Edit > Clear Outputs of All Cells) and save it")
        chunks, size = [], 0
        while chunk := os.read(fd, 1 << 20):
            size += len(chunk)
            if size > limit:
                raise Unreadable(f"{shown} grew past {limit / 2 ** 20:g} MB while it was read")
            chunks.append(chunk)
        return b"".join(chunks)
    finally:
        for fd in reversed(fds):
            os.close(fd)


def notebook_problem(data):
    """Why these bytes are not a notebook nbgrader can grade, or None. Says where, never quotes other files."""
    import nbformat

    try:
        source = data.decode("utf-8")
    except UnicodeDecodeError as err:
        return f"not a notebook: byte {err.start} is not UTF-8 text"
    try:
        json.loads(source)
    except json.JSONDecodeError as err:
        return f"not a valid notebook file (not JSON: {err.msg} at line {err.lineno}, column {err.colno})"
    except RecursionError:
        return "not a valid notebook file (nested too deeply)"
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            nbformat.validate(nbformat.reads(source, as_version=4))
    except nbformat.ValidationError as err:
        where = "/".join(str(p) for p in getattr(err, "absolute_path", []))[:100]
        return f"not a valid notebook file ({str(err.message)[:200]}{f' at {where}' if where else ''})"
    except Exception as err:  # noqa: BLE001 - any other unreadable notebook is the student's to fix
        return f"not a valid notebook file (nbformat cannot read it: {type(err).__name__})"
    return None
