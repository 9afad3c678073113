#!/usr/bin/env python3
"""Installs the build into a temporary DESTDIR and runs what was installed.

Checks that every file a user or a desktop needs lands where it should, and
that the installed `hyatt` predicts with the installed default model and
landmark sets alone (XDG_DATA_DIRS points only into DESTDIR).
Usage: test-install.py MESON BUILDDIR PREFIX BINDIR DATADIR LOCALEDIR APP_ID GUI
"""
import json
import os
import struct
import subprocess
import sys
import tempfile
import zlib

meson, builddir, prefix, bindir, datadir, localedir, app_id, gui = sys.argv[1:9]
gui = gui == "true"
tests = []

def check(name, ok, detail=""):
    tests.append((name, ok, detail))

def write_png(path, width, height):
    """An 8-bit grey gradient; the test needs an image, not an X-ray."""
    rows = b"".join(b"\0" + bytes((x + y) % 256 for x in range(width)) for y in range(height))
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    with open(path, "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n")
        f.write(chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)))
        f.write(chunk(b"IDAT", zlib.compress(rows)))
        f.write(chunk(b"IEND", b""))

with tempfile.TemporaryDirectory(prefix="hyatt-install-") as tmp:
    destdir = os.path.join(tmp, "dest")
    r = subprocess.run([meson, "install", "-C", builddir, "--no-rebuild", "--quiet",
                        "--destdir", destdir], capture_output=True, text=True)
    check("meson install", r.returncode == 0, r.stdout + r.stderr)

    def root(d):
        return os.path.join(destdir, os.path.join(prefix, d).lstrip("/"))
    bin_dir, share, locale_dir = root(bindir), root(datadir), root(localedir)

    expected = [
        os.path.join(bin_dir, "hyatt"),
        os.path.join(locale_dir, "de", "LC_MESSAGES", "hyatt-studio.mo"),
        os.path.join(share, "hyatt-studio", "models", "small-isbi2015.hyatt"),
    ] + [os.path.join(share, "hyatt-studio", "landmarks", n + ".json")
         for n in ("hand", "isbi2015", "isbi2023")]
    if gui:
        expected += [
            os.path.join(bin_dir, "hyatt-studio"),
            os.path.join(share, "glib-2.0", "schemas", app_id + ".gschema.xml"),
            os.path.join(share, "applications", app_id + ".desktop"),
            os.path.join(share, "metainfo", app_id + ".metainfo.xml"),
            os.path.join(share, "icons", "hicolor", "scalable", "apps", app_id + ".svg"),
            os.path.join(share, "icons", "hicolor", "symbolic", "apps", app_id + "-symbolic.svg"),
        ]
    for path in expected:
        check("installed " + os.path.relpath(path, destdir), os.path.isfile(path))

    # Only DESTDIR: nothing from the source or build tree may stand in.
    env = {k: v for k, v in os.environ.items()
           if k not in ("HYATT_LANDMARKS_DIR", "HYATT_LOCALEDIR")}
    env.update(XDG_DATA_DIRS=share, XDG_DATA_HOME=os.path.join(tmp, "home"),
               LC_ALL="C.UTF-8", LANGUAGE="")
    hyatt = os.path.join(bin_dir, "hyatt")

    r = subprocess.run([hyatt, "--version"], env=env, capture_output=True, text=True)
    check("hyatt --version", r.returncode == 0 and r.stdout.startswith("hyatt "),
          r.stdout + r.stderr)

    image = os.path.join(tmp, "sample.png")
    write_png(image, 160, 192)
    out = os.path.join(tmp, "out")
    model = os.path.join(share, "hyatt-studio", "models", "small-isbi2015.hyatt")
    r = subprocess.run([hyatt, "predict", "--model", model, "--out", out, image],
                       env=env, capture_output=True, text=True)
    check("hyatt predict with the installed model", r.returncode == 0, r.stdout + r.stderr)
    results = [f for f in os.listdir(out) if f.endswith(".json")] if os.path.isdir(out) else []
    check("hyatt predict wrote its JSON", len(results) == 1, repr(results))
    if len(results) == 1:
        with open(os.path.join(out, results[0])) as f:
            doc = json.load(f)
        check("prediction names the landmark set isbi2015",
              "isbi2015" in json.dumps(doc.get("landmark_set")), json.dumps(doc)[:400])

print(f"1..{len(tests)}")
for i, (name, ok, detail) in enumerate(tests, 1):
    print(f"{'ok' if ok else 'not ok'} {i} {name}")
    if not ok and detail:
        print("# " + detail.strip().replace("\n", "\n# "))
sys.exit(0 if all(ok for _, ok, _ in tests) else 1)
