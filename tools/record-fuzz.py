#!/usr/bin/python3
"""tools/reliability-report's helper: puts fuzz/run's result lines into the
fuzz section of docs/reliability.md, each replacing the line of the same
target from an earlier run (a failed target's line stays until a clean run
replaces it), and adds the run's header line.

  tools/record-fuzz.py DOC HEADER OUTPUT_FILE"""
import re
import sys

doc, header, out_file = sys.argv[1:]
out = open(out_file).read().splitlines()
begin = '<!-- fuzz begin: written by tools/reliability-report -->'
end = '<!-- fuzz end -->'
s = open(doc).read()
a, b = s.index(begin) + len(begin), s.index(end)
old = [l for l in s[a:b].splitlines() if l.strip()]


def target(line):
    m = re.match(r'- (fuzz_\w+):', line)
    return m.group(1) if m else None


heads = [l for l in old if not l.startswith('- ')]
if any(l.startswith('fuzz_') for l in out):  # fuzz/run got as far as a target
    heads.append(header + ':')
lines = {target(l): l for l in old if target(l)}
last = None
for l in out:
    if l.startswith('fuzz_'):
        last = target('- ' + l)
        lines[last] = '- ' + l
    elif l.strip() and last:  # a failure's details follow its line
        lines[last] += ' ' + l.strip()
text = '\n'.join(heads) + '\n\n' + '\n'.join(lines[k] for k in sorted(lines))
open(doc, 'w').write(s[:a] + '\n' + text + '\n' + s[b:])
