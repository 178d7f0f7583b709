#!/usr/bin/env python3
"""Checks the packed Tensorlet packages: the metadata NuGet shows, the files a consumer needs, symbols
alongside, and dependencies that follow the layering Kernels <- Core <- Models <- Onnx with nothing else leaking in
(Google.Protobuf only in Tensorlet.Onnx, so a consumer who never exports never loads it).
Usage: check-packages.py PACKAGE_FOLDER VERSION"""
import re
import sys
import zipfile
import xml.etree.ElementTree as ET
from pathlib import Path

folder, version = Path(sys.argv[1]), sys.argv[2]
tfm = "net10.0"
# The one allowed dependency set of each package; project references become package dependencies.
expected = {
    "Tensorlet.Kernels": {"ILGPU", "ILGPU.Algorithms"},
    "Tensorlet.Core": {"Tensorlet.Kernels"},
    "Tensorlet.Models": {"Tensorlet.Core"},
    "Tensorlet.Onnx": {"Tensorlet.Models", "Google.Protobuf"},
}
errors = []

packed = sorted(p.name for p in folder.glob("*.nupkg"))
wanted = sorted(f"{p}.{version}.nupkg" for p in expected)
if packed != wanted:
    errors.append(f"expected exactly {wanted} in {folder}, found {packed}")

for package_id, dependencies in expected.items():
    nupkg = folder / f"{package_id}.{version}.nupkg"
    snupkg = folder / f"{package_id}.{version}.snupkg"
    if not nupkg.exists():
        errors.append(f"{nupkg.name} is missing")
        continue
    with zipfile.ZipFile(nupkg) as z:
        names = set(z.namelist())
        nuspec = ET.fromstring(z.read(f"{package_id}.nuspec"))
    ns = {"n": nuspec.tag[1:].split("}")[0]}
    meta = nuspec.find("n:metadata", ns)

    def text(tag):
        node = meta.find(f"n:{tag}", ns)
        return (node.text or "").strip() if node is not None else ""

    def check(condition, message):
        if not condition:
            errors.append(f"{package_id}: {message}")

    check(text("id") == package_id, f"id is '{text('id')}'")
    check(text("version") == version, f"version is '{text('version')}', not {version}")
    check(text("authors") == "Tensorlet contributors", f"authors is '{text('authors')}'")
    check(len(text("description")) > 40 and "Package Description" not in text("description"), "has no real description")
    check(text("license") == "MIT", f"license is '{text('license')}'")
    check(text("readme") == "README.md" and "README.md" in names, "does not pack README.md as its readme")
    if package_id == "Tensorlet.Onnx":
        with zipfile.ZipFile(nupkg) as z:
            check(b"ONNX Runtime" in z.read("README.md"), "packs the repository's README, not its own")
    check(len(text("tags").split()) >= 3, "has no tags")
    repository = meta.find("n:repository", ns)
    check(repository is not None and repository.get("url", "").startswith("https://"), "has no repository URL")
    check(repository is not None and re.fullmatch(r"[0-9a-f]{40}", repository.get("commit", "")), "has no repository commit (SourceLink)")
    for lib in (f"lib/{tfm}/{package_id}.dll", f"lib/{tfm}/{package_id}.xml"):
        check(lib in names, f"lacks {lib}")
    strays = [n for n in names if n.startswith("lib/") and not n.endswith("/") and not n.startswith(f"lib/{tfm}/{package_id}.")]
    check(not strays, f"carries other assemblies: {strays}")
    groups = meta.findall("n:dependencies/n:group", ns)
    check([g.get("targetFramework") for g in groups] == [tfm], f"dependency groups are {[g.get('targetFramework') for g in groups]}, not [{tfm}]")
    found = {d.get("id") for g in groups for d in g.findall("n:dependency", ns)}
    check(found == dependencies, f"depends on {sorted(found)}, not {sorted(dependencies)}")
    for g in groups:
        for d in g.findall("n:dependency", ns):
            if d.get("id", "").startswith("Tensorlet."):
                check(d.get("version") == version, f"depends on {d.get('id')} {d.get('version')}, not {version}")
    check(snupkg.exists(), f"{snupkg.name} is missing")
    if snupkg.exists():
        with zipfile.ZipFile(snupkg) as z:
            pdb = f"lib/{tfm}/{package_id}.pdb"
            check(pdb in z.namelist(), f"its symbol package lacks {pdb}")
            if pdb in z.namelist():
                check(b'"documents"' in z.read(pdb), "its PDB has no SourceLink map")

for error in errors:
    print(f"Package check failed: {error}", file=sys.stderr)
if errors:
    sys.exit(1)
print(f"Packages OK: {', '.join(wanted)} with symbols.")
