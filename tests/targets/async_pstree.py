"""Compares `python3.14+ -m asyncio pstree PID` with async_tree.py's ground truth.

Usage: python async_pstree.py GROUND_TRUTH.json PSTREE_OUTPUT.txt
Prints one line per difference and exits 1 if there is any; run pstree with the target's own
interpreter (3.14 or 3.15). The CPU task is compared by parent only: it runs, so its line moves.

pstree prints one tree per root task: `(T) name` for a task, ` funcname filename:lineno` for a
coroutine frame (outermost first, each nested under the previous), a child task under the frame
of its parent that awaits it; frames shared by several children appear once.
"""
import json
import re
import sys

LINE = re.compile(r"^((?:│   |    )*)(?:└── |├── )(.*)$")


def parse(text):
    """{task name: {"parent": name or None, "frames": ["func file:line", ...] outermost first}}."""
    tasks, path = {}, []
    for line in text.splitlines():
        m = LINE.match(line)
        if not m:
            continue
        depth = len(m.group(1)) // 4
        label = m.group(2)
        del path[depth:]
        path.append(label)
        owner = next((p[4:] for p in reversed(path[:-1]) if p.startswith("(T) ")), None)
        if label.startswith("(T) "):
            tasks[label[4:]] = {"parent": owner, "frames": []}
        elif owner is not None:
            tasks[owner]["frames"].append(label.strip())
    return tasks


def differences(truth, tree):
    out = []
    for loop in truth["loops"]:
        for task in loop["tasks"]:
            name = task["name"]
            if name not in tree:
                out.append(f"{name} ({loop['thread_name']}): not in pstree")
                continue
            parent = task["awaited_by"][0] if task["awaited_by"] else None
            if tree[name]["parent"] != parent:
                out.append(f"{name}: pstree parent {tree[name]['parent']}, truth {parent}")
            frames = [f"{f['name']} {f['filename']}:{f['line']}" for f in reversed(task["stack"])]
            if name != "cpu" and tree[name]["frames"] != frames:
                out.append(f"{name}: pstree frames {tree[name]['frames']}, truth {frames}")
    known = {t["name"] for loop in truth["loops"] for t in loop["tasks"]}
    out += [f"{name}: in pstree only" for name in tree if name not in known]
    return out


if __name__ == "__main__":
    with open(sys.argv[1], encoding="utf-8") as f:
        truth = json.load(f)
    with open(sys.argv[2], encoding="utf-8") as f:
        tree = parse(f.read())
    diffs = differences(truth, tree)
    print("\n".join(diffs) if diffs else "pstree equals the ground truth")
    sys.exit(1 if diffs else 0)
