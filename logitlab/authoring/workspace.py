"""The learner's working copy of the course (`my-work/`): made by the first `make lab`, brought up to date with the
course by `make update`, never overwriting what the learner wrote.

The repository's notebooks/, exercises/ and solutions/ stay the course's; the learner opens, runs and answers their
own copies, which git ignores, so a `git pull` of course fixes never meets their work. `my-work/.course.json`
remembers, per file, which course version was copied and what its cells were, so that an update can tell a copy
the learner changed (kept; the course's new version is written beside it as `NN-x.updated.ipynb`) from one they
did not (replaced). A file the learner deleted comes back, as with nbgitpuller.

Each copied notebook carries this Python's full `language_info`: JupyterLab writes the kernel's into a notebook as
it opens it, and marks the notebook modified unless the stored one is equal, version included. The course stores
only the language's name, so that it pins no Python version.

    python -m logitlab.authoring.workspace prepare [--work my-work]
    python -m logitlab.authoring.workspace update [--work my-work]
"""

import argparse
import hashlib
import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# What the learner gets a copy of. README.md too: lesson 00 links to it; the Chinese edition and its README as well.
COURSE_PARTS = ("notebooks", "exercises", "solutions", "README.md", "zh-CN", "README.zh-CN.md")
RECORD = ".course.json"
UPDATED = ".updated"


def kernel_language_info():
    """The `language_info` the course's kernel (ipykernel, this Python) sends JupyterLab when a notebook opens."""
    from ipykernel.ipkernel import IPythonKernel

    return json.loads(json.dumps(IPythonKernel.language_info))


def course_files(course):
    """The course's files to copy, as paths relative to `course`, sorted."""
    found = []
    for part in COURSE_PARTS:
        path = course / part
        if path.is_file():
            found.append(Path(part))
        elif path.is_dir():
            found += [p.relative_to(course) for p in path.rglob("*")
                      if p.is_file() and ".ipynb_checkpoints" not in p.parts]
    return sorted(found)


def file_digest(path):
    """SHA-256 of a file's bytes."""
    return hashlib.sha256(path.read_bytes()).hexdigest()


def work_digest(path):
    """What the learner may have changed in a file: a notebook's cell types and sources (not outputs, metadata or
    formatting, which running and saving change), any other file's bytes. None for a notebook that cannot be read,
    which then counts as the learner's."""
    if path.suffix != ".ipynb":
        return file_digest(path)
    try:
        cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
        content = [[cell["cell_type"], "".join(cell["source"]) if isinstance(cell["source"], list)
                    else cell["source"]] for cell in cells]
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return hashlib.sha256(json.dumps(content).encode()).hexdigest()


def copy_in(source, target, language_info):
    """Copy a course file to `target`; a notebook gets this Python's `language_info` (see the module docstring)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    if source.suffix != ".ipynb":
        target.write_bytes(source.read_bytes())
        return
    nb = json.loads(source.read_text(encoding="utf-8"))
    nb.setdefault("metadata", {})["language_info"] = language_info
    target.write_text(json.dumps(nb, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")


def read_record(work):
    """The working copy's record of what was copied from the course ({} before the first copy)."""
    path = work / RECORD
    if not path.exists():
        return {"files": {}}
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
        files = record["files"]
        if all(isinstance(entry, dict) and isinstance(entry.get("course"), str) for entry in files.values()):
            return record
    except (ValueError, KeyError, TypeError, AttributeError):
        pass
    sys.exit(f"{path} is damaged (it says which course version each file in {work} came from). Move it away and run "
             "`make update`: every file you have there is kept as yours, and missing ones are copied in.")


def write_record(work, record):
    """Store the working copy's record (see read_record)."""
    (work / RECORD).write_text(json.dumps(record, indent=1, sort_keys=True) + "\n", encoding="utf-8")


def changed_in_git(course, paths):
    """Course files with changes not committed to git: a learner's answers from before the working copy existed.
    Empty outside a git checkout."""
    try:
        out = subprocess.run(["git", "status", "--porcelain", "--", *map(str, paths)], cwd=course,
                             capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.TimeoutExpired):
        return set()
    if out.returncode != 0:
        return set()
    return {Path(line[3:].strip().strip('"')) for line in out.stdout.splitlines() if line[:2] != "??"}


def free_name(path):
    """A name beside `path` for the course's new version: NN-x.updated.ipynb, or NN-x.updated-2.ipynb and so on when
    that one is taken."""
    candidate, n = path.with_name(path.stem + UPDATED + path.suffix), 2
    while candidate.exists():
        candidate = path.with_name(f"{path.stem}{UPDATED}-{n}{path.suffix}")
        n += 1
    return candidate


def prepare(course=ROOT, work=None):
    """Make the working copy if there is none (on `make lab`); afterwards only give the notebooks this Python's
    `language_info` when Python changed. Returns the lines to print."""
    work = Path(work or course / "my-work")
    language_info = kernel_language_info()
    if (work / RECORD).exists():
        record = read_record(work)
        if record.get("language_info") != language_info:
            restamp(work, record, language_info)
        return [f"Your work is in {work}/ (make update brings in the course's changes)."]
    files = course_files(course)
    from_git = changed_in_git(course, files)
    record = {"files": {}, "language_info": language_info}
    kept = []
    for rel in files:
        target = work / rel
        if target.exists():  # a file of the learner's, made before this copy: theirs, never overwritten
            kept.append(str(rel))
            record["files"][str(rel)] = {"course": file_digest(course / rel), "copy": None}
            continue
        copy_in(course / rel, target, language_info)
        # Answers written in the repository's own files before the working copy existed are the learner's.
        record["files"][str(rel)] = {"course": file_digest(course / rel),
                                     "copy": None if rel in from_git else work_digest(target)}
    write_record(work, record)
    lines = [f"Made your own copy of the lessons and exercises in {work}/ (not tracked by git): open and change "
             "them freely. make update brings in the course's changes without overwriting yours."]
    if kept:
        lines.append("Kept your files already there: " + ", ".join(kept))
    return lines


def restamp(work, record, language_info):
    """Give the working copy's notebooks this Python's `language_info` (after a new .venv with another Python)."""
    for rel in record["files"]:
        path = work / rel
        if path.suffix != ".ipynb" or not path.exists():
            continue
        try:
            nb = json.loads(path.read_text(encoding="utf-8"))
            nb["metadata"]["language_info"] = language_info
        except (OSError, ValueError, KeyError, TypeError):
            continue  # not a notebook we can read: left as it is
        path.write_text(json.dumps(nb, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    record["language_info"] = language_info
    write_record(work, record)


def update(course=ROOT, work=None):
    """Bring the course's new and changed files into the working copy (`make update`). Returns the lines to print.

    New course file, or one the learner deleted: copied in. Changed course file whose copy the learner did not
    change: replaced. Changed course file whose copy the learner changed: theirs kept, the course's written beside.
    """
    work = Path(work or course / "my-work")
    if not (work / RECORD).exists():
        return prepare(course, work)
    record = read_record(work)
    language_info = record.get("language_info") or kernel_language_info()
    added, replaced, conflicts, unchanged = [], [], [], 0
    for rel in course_files(course):
        key, source, target = str(rel), course / rel, work / rel
        known = record["files"].get(key)
        course_now = file_digest(source)
        if not target.exists():
            copy_in(source, target, language_info)
            record["files"][key] = {"course": course_now, "copy": work_digest(target)}
            added.append(key + (" (you had deleted it)" if known else ""))
            continue
        if known and known["course"] == course_now:
            unchanged += 1
            continue
        mine = known is not None and known["copy"] is not None and work_digest(target) == known["copy"]
        if mine:
            copy_in(source, target, language_info)
            record["files"][key] = {"course": course_now, "copy": work_digest(target)}
            replaced.append(key)
            continue
        if known and known.get("beside") == course_now:
            unchanged += 1  # this course version is already beside the learner's
            continue
        # The course's version goes beside the learner's; an earlier one written there and not worked in is reused.
        earlier = work / known["beside_path"] if known and known.get("beside_path") else None
        reuse = earlier is not None and earlier.exists() and work_digest(earlier) == known.get("beside_copy")
        spot = earlier if reuse else free_name(target)
        copy_in(source, spot, language_info)
        record["files"][key] = {"course": known["course"] if known else course_now,
                                "copy": known["copy"] if known else None, "beside": course_now,
                                "beside_path": str(spot.relative_to(work)), "beside_copy": work_digest(spot)}
        conflicts.append((key, spot.relative_to(work)))
    write_record(work, record)
    return update_summary(work, added, replaced, conflicts, unchanged)


def update_summary(work, added, replaced, conflicts, unchanged):
    """What `make update` did, in a few lines."""
    lines = [f"Course update of {work}/:"]
    lines += [f"  new: {name}" for name in added]
    lines += [f"  updated: {name} (you had not changed it)" for name in replaced]
    for name, spot in conflicts:
        lines.append(f"  kept yours: {name}. The course changed it too: its new version is beside yours as {spot}. "
                     "Compare the two and copy what you want into yours.")
    lines.append(f"  {unchanged} file(s) already up to date" if unchanged else "")
    return [line for line in lines if line]


def main(argv=None):
    """`prepare` or `update` the working copy, printing what was done."""
    parser = argparse.ArgumentParser(prog="python -m logitlab.authoring.workspace", description=__doc__.split("\n")[0])
    parser.add_argument("action", choices=["prepare", "update"])
    parser.add_argument("--course", type=Path, default=ROOT, help="the course checkout (default: this repository)")
    parser.add_argument("--work", type=Path, default=None, help="the learner's copy (default: COURSE/my-work)")
    args = parser.parse_args(argv)
    action = prepare if args.action == "prepare" else update
    for line in action(args.course.resolve(), args.work):
        print(line)


if __name__ == "__main__":
    main()
