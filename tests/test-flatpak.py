#!/usr/bin/env python3
"""Checks the Flatpak manifest offline (flatpak-builder needs the network).

Usage: test-flatpak.py MANIFEST DESKTOP METAINFO APP_ID PROGRAM...
PROGRAM...: the executables the build installs; the manifest's command must
be one of them.
"""
import configparser
import json
import re
import sys
import xml.etree.ElementTree as ET

manifest_path, desktop_path, metainfo_path, app_id = sys.argv[1:5]
programs = sys.argv[5:]
tests = []

def check(name, ok, detail=""):
    tests.append((name, bool(ok), detail))

try:
    with open(manifest_path) as f:
        manifest = json.load(f)
    check("manifest is JSON", True)
except ValueError as e:
    manifest = {}
    check("manifest is JSON", False, str(e))

check("id is the app id", manifest.get("id") == app_id, repr(manifest.get("id")))
check("file is named after the id",
      manifest_path.endswith("/" + app_id + ".json"), manifest_path)

desktop = configparser.ConfigParser(interpolation=None)
desktop.read(desktop_path)
check("desktop file is named after the id",
      desktop_path.endswith("/" + app_id + ".desktop"), desktop_path)
check("desktop Icon is the id", desktop["Desktop Entry"].get("Icon") == app_id)

meta = ET.parse(metainfo_path).getroot()
check("metainfo id is the id", meta.findtext("id") == app_id, meta.findtext("id"))
check("metainfo launchable is the desktop file",
      meta.findtext("launchable") == app_id + ".desktop", meta.findtext("launchable"))

command = manifest.get("command")
check("command is an installed program", command in programs, repr(command))
exec_line = desktop["Desktop Entry"].get("Exec", "")
check("desktop Exec runs the command", exec_line.split()[:1] == [command], exec_line)

check("runtime is org.gnome.Platform", manifest.get("runtime") == "org.gnome.Platform")
check("sdk is org.gnome.Sdk", manifest.get("sdk") == "org.gnome.Sdk")
# GNOME 45 is the oldest runtime still built when this was written.
version = str(manifest.get("runtime-version", ""))
check("runtime-version is 45 or later", version.isdigit() and int(version) >= 45, version)

modules = manifest.get("modules", [])
names = [m.get("name") for m in modules]
for needed in ("openblas", "dcmtk", "hyatt-studio"):
    check(f"module {needed}", needed in names, repr(names))
check("hyatt-studio is built last, on the others", names[-1:] == ["hyatt-studio"], repr(names))
for m in modules:
    sources = m.get("sources", [])
    check(f"module {m.get('name')} has sources", len(sources) > 0)
    for s in sources:
        if s.get("type") == "dir":
            continue  # this repository itself
        check(f"module {m.get('name')}: {s.get('url')} is pinned by sha256",
              "url" in s and re.fullmatch(r"[0-9a-f]{64}", s.get("sha256", "")), repr(s))

print(f"1..{len(tests)}")
for i, (name, ok, detail) in enumerate(tests, 1):
    print(f"{'ok' if ok else 'not ok'} {i} {name}")
    if not ok and detail:
        print("# " + detail)
sys.exit(0 if all(ok for _, ok, _ in tests) else 1)
