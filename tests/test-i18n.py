#!/usr/bin/env python3
"""`hyatt` speaks German with the .mo files of this build tree.

LC_ALL=C.UTF-8 with LANGUAGE=de: glibc honours LANGUAGE for any locale but
plain C/POSIX, and C.UTF-8 exists on every glibc system, so the test needs
no generated de_DE locale.
Usage: test-i18n.py HYATT LOCALEDIR
"""
import os
import subprocess
import sys

hyatt, localedir = sys.argv[1], sys.argv[2]
env = dict(os.environ, LC_ALL="C.UTF-8", LANGUAGE="de", HYATT_LOCALEDIR=localedir)

def run(*args):
    return subprocess.run([hyatt, *args], env=env, capture_output=True, text=True)

checks = [
    (("--help",), "stdout", "Aufruf: hyatt BEFEHL"),
    (("--help",), "stdout", "Befehle:"),
    (("no-such-command",), "stderr", "unbekannter Befehl"),
    (("predict", "001.png"), "stderr", "--model DATEI wird benötigt"),
]
failed = 0
print(f"1..{len(checks)}")
for i, (args, stream, want) in enumerate(checks, 1):
    out = getattr(run(*args), stream)
    ok = want in out
    failed += not ok
    print(f"{'ok' if ok else 'not ok'} {i} hyatt {' '.join(args)}: {want!r} in {stream}")
    if not ok:
        print("# " + out.replace("\n", "\n# "))
sys.exit(1 if failed else 0)
