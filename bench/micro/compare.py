"""`bench.py --compare OLD.json NEW.json`: the change of every figure between two runs.

Each results file holds a "figures" object, {name: {"value": number or null, "unit": text}}.
One line per figure, in the order of the old file (then figures only the new one has):
name, unit, old value, new value, the difference and the ratio new/old (a dash where
either value is missing, or the old one is not above zero).
"""

import json
import sys

MISSING = "—"


class CompareError(Exception):
    pass


def load_figures(path):
    try:
        with open(path) as f:
            data = json.load(f)
    except OSError as error:
        raise CompareError(f"cannot read {path}: {error.strerror}") from None
    except json.JSONDecodeError as error:
        raise CompareError(f"{path} is not JSON: {error.msg} at line {error.lineno}") from None
    figures = data.get("figures") if isinstance(data, dict) else None
    if not isinstance(figures, dict):
        raise CompareError(f"{path} has no figures (not a results file of bench/micro/bench.py)")
    return data, figures


def number(value):
    if value is None:
        return MISSING
    if isinstance(value, int):
        return str(value)
    return f"{value:.2f}"


def change(old, new):
    if old is None or new is None:
        return MISSING, MISSING
    delta = new - old
    delta_text = f"{delta:+d}" if isinstance(delta, int) else f"{delta:+.2f}"
    # A ratio says something only between two amounts of the same sign (not for a growth that
    # turned into a shrink, nor from zero).
    ratio_text = f"{new / old:.2f}×" if old > 0 and new >= 0 else MISSING
    return delta_text, ratio_text


def describe(path, data):
    return f"{path} ({data.get('date', '?')}, {data.get('mode', '?')} run)"


def compare_lines(old_path, new_path):
    old_data, old = load_figures(old_path)
    new_data, new = load_figures(new_path)
    names = list(old) + [name for name in new if name not in old]
    rows = [("figure", "unit", "old", "new", "delta", "ratio")]
    for name in names:
        before = (old.get(name) or {}).get("value")
        after = (new.get(name) or {}).get("value")
        unit = (new.get(name) or old.get(name) or {}).get("unit", "")
        rows.append((name, unit, number(before), number(after), *change(before, after)))
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = [f"old: {describe(old_path, old_data)}", f"new: {describe(new_path, new_data)}", ""]
    for row in rows:
        cells = [row[0].ljust(widths[0]), row[1].ljust(widths[1])] + [cell.rjust(width) for cell, width in zip(row[2:], widths[2:])]
        lines.append("  ".join(cells).rstrip())
    return lines


def main(old_path, new_path):
    try:
        lines = compare_lines(old_path, new_path)
    except CompareError as error:
        print(f"bench: --compare: {error}", file=sys.stderr)
        return 2
    print("\n".join(lines))
    return 0
