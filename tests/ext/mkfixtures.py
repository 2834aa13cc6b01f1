#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Builds the fixture package mirrors used by the external-connection tests.

    mkfixtures.py OUT

writes, into the folder OUT (created if needed):

  files/             the PyPI distributions (real pip-installable wheels and one sdist)
  pypi/              a PEP 503 simple index (index.html, relative links to ../../files/) and
                     the PEP 691 JSON form of every page (index.json, api-version 1.1)
  npm/               npm tarballs and packuments; the packuments name their tarballs with
                     absolute file://<OUT>/npm/... URLs (tests/ext/server.py rewrites them)
  maven/             a Maven 2 layout with poms, jars, checksums and maven-metadata.xml
  manifest.json      every file above: relative path -> {size, sha1, sha256, sha512}

The output is deterministic: archives carry fixed timestamps, owners and modes, entries are
written in a fixed order and the "random" payload of ext-big comes from a seeded generator,
so building twice into the same OUT gives identical bytes. (Only the npm packuments and the
manifest depend on OUT itself, through the absolute file:// tarball URLs.)

Environment: FIXTURE_BIG_MB (default 32) is the size in MiB of the incompressible data file
inside the ext-big wheel; it may be fractional (e.g. 0.5) for quick runs.
Python 3.11 standard library only.
"""

import base64
import gzip
import hashlib
import html
import io
import json
import os
import random
import re
import sys
import tarfile
import zipfile

# Fixed times for everything that carries one (zip entries, tar entries, index metadata).
ZIP_TIME = (2023, 1, 1, 0, 0, 0)
NPM_TAR_MTIME = 499162500  # 1985-10-26T08:15:00Z, the constant `npm pack` itself uses
SDIST_MTIME = 1672531200  # 2023-01-01T00:00:00Z


class Out:
    """The output folder: writes files and remembers their digests for manifest.json."""

    def __init__(self, root):
        self.root = os.path.abspath(root)
        self.files = {}  # relative path -> digests

    def write(self, rel, data):
        if isinstance(data, str):
            data = data.encode("utf-8")
        path = os.path.join(self.root, *rel.split("/"))
        os.makedirs(os.path.dirname(path), exist_ok=True)
        # write to a temporary name and rename, so a reader never sees half a file
        tmp = path + ".tmp"
        with open(tmp, "wb") as f:
            f.write(data)
        os.replace(tmp, path)
        self.files[rel] = {
            "size": len(data),
            "sha1": hashlib.sha1(data).hexdigest(),
            "sha256": hashlib.sha256(data).hexdigest(),
            "sha512": hashlib.sha512(data).hexdigest(),
        }
        return data

    def write_manifest(self):
        body = json.dumps(self.files, indent=2, sort_keys=True) + "\n"
        path = os.path.join(self.root, "manifest.json")
        with open(path + ".tmp", "w", encoding="utf-8") as f:
            f.write(body)
        os.replace(path + ".tmp", path)


# ---------------------------------------------------------------------------------------------
# Archive helpers (deterministic)
# ---------------------------------------------------------------------------------------------


def make_zip(entries):
    """A zip from [(name, bytes, compress_type)], in the given order, with fixed metadata."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for name, data, compress in entries:
            info = zipfile.ZipInfo(name, date_time=ZIP_TIME)
            info.compress_type = compress
            info.create_system = 3  # unix, so external_attr means a unix mode
            info.external_attr = 0o100644 << 16
            zf.writestr(info, data, compress_type=compress, compresslevel=6)
    return buf.getvalue()


def make_tgz(entries, mtime):
    """A gzip'd ustar archive from [(name, bytes)] with fixed owner, mode and times."""
    tar_buf = io.BytesIO()
    with tarfile.open(fileobj=tar_buf, mode="w", format=tarfile.USTAR_FORMAT) as tf:
        for name, data in entries:
            info = tarfile.TarInfo(name)
            info.size = len(data)
            info.mtime = mtime
            info.mode = 0o644
            info.uid = info.gid = 0
            info.uname = info.gname = ""
            tf.addfile(info, io.BytesIO(data))
    gz_buf = io.BytesIO()
    # mtime=0 and an empty file name keep the gzip header free of run-dependent fields
    with gzip.GzipFile(filename="", mode="wb", fileobj=gz_buf, mtime=0, compresslevel=9) as gz:
        gz.write(tar_buf.getvalue())
    return gz_buf.getvalue()


# ---------------------------------------------------------------------------------------------
# PyPI
# ---------------------------------------------------------------------------------------------


def normalize(name):
    """PEP 503 normalized project name."""
    return re.sub(r"[-_.]+", "-", name).lower()


def record_hash(data):
    """The digest form of a wheel RECORD line: sha256=<urlsafe base64, no padding>."""
    digest = hashlib.sha256(data).digest()
    return "sha256=" + base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def core_metadata(name, version, summary, requires):
    lines = [
        "Metadata-Version: 2.1",
        f"Name: {name}",
        f"Version: {version}",
        f"Summary: {summary}",
        "Requires-Python: >=3.7",
    ]
    lines += [f"Requires-Dist: {r}" for r in requires]
    return "\n".join(lines) + "\n\n"


def make_wheel(name, version, summary, requires=(), extra_files=()):
    """A real py3-none-any wheel: the module, METADATA, WHEEL and a correct RECORD.

    extra_files is [(path inside the module folder, bytes)], stored uncompressed (used for
    the large incompressible payload of ext-big)."""
    module = name.replace("-", "_")
    dist_info = f"{module}-{version}.dist-info"
    # (path, bytes, compression) in archive order: the module first, then dist-info,
    # RECORD last as the wheel spec recommends
    entries = [(f"{module}/__init__.py", f'VERSION = "{version}"\n'.encode(), zipfile.ZIP_DEFLATED)]
    for rel, data in sorted(extra_files):
        entries.append((f"{module}/{rel}", data, zipfile.ZIP_STORED))
    entries.append((f"{dist_info}/METADATA", core_metadata(name, version, summary, requires).encode(),
                    zipfile.ZIP_DEFLATED))
    wheel_meta = ("Wheel-Version: 1.0\n"
                  "Generator: cafs-mkfixtures (1.0)\n"
                  "Root-Is-Purelib: true\n"
                  "Tag: py3-none-any\n\n")
    entries.append((f"{dist_info}/WHEEL", wheel_meta.encode(), zipfile.ZIP_DEFLATED))
    record = "".join(f"{p},{record_hash(d)},{len(d)}\n" for p, d, _ in entries)
    record += f"{dist_info}/RECORD,,\n"
    entries.append((f"{dist_info}/RECORD", record.encode(), zipfile.ZIP_DEFLATED))
    filename = f"{module}-{version}-py3-none-any.whl"
    return filename, make_zip(entries)


def make_sdist(name, version, summary):
    """A minimal setuptools sdist: PKG-INFO, setup.py, pyproject.toml and the module."""
    module = name.replace("-", "_")
    top = f"{module}-{version}"
    setup_py = ("from setuptools import setup\n\n"
                f'setup(name="{name}", version="{version}", packages=["{module}"])\n')
    pyproject = ('[build-system]\nrequires = ["setuptools"]\n'
                 'build-backend = "setuptools.build_meta"\n')
    entries = [
        (f"{top}/PKG-INFO", core_metadata(name, version, summary, ()).encode()),
        (f"{top}/pyproject.toml", pyproject.encode()),
        (f"{top}/setup.py", setup_py.encode()),
        (f"{top}/{module}/__init__.py", f'VERSION = "{version}"\n'.encode()),
    ]
    return f"{top}.tar.gz", make_tgz(entries, SDIST_MTIME)


def big_payload():
    """FIXTURE_BIG_MB MiB of seeded pseudo-random (so incompressible yet reproducible) bytes."""
    mib = float(os.environ.get("FIXTURE_BIG_MB", "32"))
    size = int(mib * 1024 * 1024)
    # in 16 MiB pieces: randbytes() of 256 MiB or more overflows (getrandbits takes an int)
    rng = random.Random(0xCAF5)
    piece = 16 << 20
    return b"".join(rng.randbytes(min(piece, size - off)) for off in range(0, size, piece))


def upload_time(n):
    """The n-th fixed upload time (one day apart, so later versions are later)."""
    return f"2023-01-{n + 1:02d}T12:00:00.000000Z"


def build_pypi(out):
    # project -> [(version, [(filename, bytes)], yanked reason or None)], oldest first
    projects = {}

    def add(project, version, dists, yanked=None):
        projects.setdefault(project, []).append((version, dists, yanked))

    add("extpkg", "1.0", [make_wheel("extpkg", "1.0", "External fixture package"),
                          make_sdist("extpkg", "1.0", "External fixture package")])
    add("extpkg", "1.1", [make_wheel("extpkg", "1.1", "External fixture package",
                                     requires=["ext-dep>=0.5"])])
    add("extpkg", "2.0", [make_wheel("extpkg", "2.0", "External fixture package")],
        yanked="broken")
    add("ext-dep", "0.5", [make_wheel("ext-dep", "0.5", "Dependency of extpkg")])
    add("ext-big", "1.0", [make_wheel("ext-big", "1.0", "Large incompressible wheel",
                                      extra_files=[("data.bin", big_payload())])])

    root_links = []
    for project in sorted(projects, key=normalize):
        norm = normalize(project)
        root_links.append(norm)
        anchors = []
        jfiles = []
        versions = []
        for index, (version, dists, yanked) in enumerate(projects[project]):
            versions.append(version)
            for filename, data in dists:
                out.write(f"files/{filename}", data)
                sha256 = hashlib.sha256(data).hexdigest()
                attrs = ' data-requires-python="&gt;=3.7"'
                if yanked is not None:
                    attrs += f' data-yanked="{html.escape(yanked)}"'
                anchors.append(f'    <a href="../../files/{filename}#sha256={sha256}"{attrs}>'
                               f"{filename}</a><br/>\n")
                jfiles.append({
                    "filename": filename,
                    "url": f"../../files/{filename}",
                    "hashes": {"sha256": sha256},
                    "requires-python": ">=3.7",
                    "yanked": yanked if yanked is not None else False,
                    "size": len(data),
                    "upload-time": upload_time(index),
                })
        page = ("<!DOCTYPE html>\n<html>\n  <head>\n"
                '    <meta name="pypi:repository-version" content="1.1">\n'
                f"    <title>Links for {norm}</title>\n  </head>\n  <body>\n"
                f"    <h1>Links for {norm}</h1>\n" + "".join(anchors) +
                "  </body>\n</html>\n")
        out.write(f"pypi/{norm}/index.html", page)
        doc = {"meta": {"api-version": "1.1"}, "name": norm, "files": jfiles, "versions": versions}
        out.write(f"pypi/{norm}/index.json", json.dumps(doc, indent=2) + "\n")

    root = ("<!DOCTYPE html>\n<html>\n  <head>\n"
            '    <meta name="pypi:repository-version" content="1.1">\n'
            "    <title>Simple index</title>\n  </head>\n  <body>\n" +
            "".join(f'    <a href="{n}/">{n}</a><br/>\n' for n in root_links) +
            "  </body>\n</html>\n")
    out.write("pypi/index.html", root)
    root_doc = {"meta": {"api-version": "1.1"}, "projects": [{"name": n} for n in root_links]}
    out.write("pypi/index.json", json.dumps(root_doc, indent=2) + "\n")


# ---------------------------------------------------------------------------------------------
# npm
# ---------------------------------------------------------------------------------------------


def npm_time(n):
    return f"2023-02-{n + 1:02d}T12:00:00.000Z"


def build_npm(out):
    # package -> (versions oldest first, dist-tags)
    packages = {
        "extlib": (["1.0.0", "1.1.0", "1.2.0-beta.1"], {"latest": "1.1.0", "beta": "1.2.0-beta.1"}),
        "@space/anycompany-ui": (["1.0.0"], {"latest": "1.0.0"}),
        "@space/other": (["1.0.0"], {"latest": "1.0.0"}),
    }
    for name in sorted(packages):
        versions, tags = packages[name]
        base = name.split("/")[-1]  # the tarball is named after the unscoped part
        description = f"Fixture package {name}"
        vdocs = {}
        times = {"created": npm_time(0)}
        for index, version in enumerate(versions):
            manifest = {"name": name, "version": version, "description": description,
                        "main": "index.js", "license": "MIT"}
            index_js = (f"// {name} {version} (cafs test fixture)\n"
                        f"module.exports = {{ name: {json.dumps(name)}, "
                        f"version: {json.dumps(version)} }};\n")
            tgz = make_tgz([("package/package.json", (json.dumps(manifest, indent=2) + "\n").encode()),
                            ("package/index.js", index_js.encode())], NPM_TAR_MTIME)
            rel = f"npm/{name}/-/{base}-{version}.tgz"
            out.write(rel, tgz)
            vdocs[version] = {
                "name": name,
                "version": version,
                "description": description,
                "main": "index.js",
                "license": "MIT",
                "_id": f"{name}@{version}",
                "dist": {
                    "tarball": f"file://{out.root}/{rel}",
                    "shasum": hashlib.sha1(tgz).hexdigest(),
                    "integrity": "sha512-" + base64.b64encode(hashlib.sha512(tgz).digest()).decode(),
                },
            }
            times[version] = npm_time(index)
        times["modified"] = npm_time(len(versions) - 1)
        packument = {"_id": name, "name": name, "description": description, "dist-tags": tags,
                     "versions": vdocs, "time": times}
        out.write(f"npm/{name}/index.json", json.dumps(packument, indent=2) + "\n")


# ---------------------------------------------------------------------------------------------
# Maven
# ---------------------------------------------------------------------------------------------

GROUP = "com.example.ext"
GROUP_PATH = GROUP.replace(".", "/")


def make_pom(artifact, version, deps=()):
    dep_xml = ""
    if deps:
        dep_xml = "  <dependencies>\n" + "".join(
            "    <dependency>\n"
            f"      <groupId>{g}</groupId>\n"
            f"      <artifactId>{a}</artifactId>\n"
            f"      <version>{v}</version>\n"
            "      <scope>compile</scope>\n"
            "    </dependency>\n" for g, a, v in deps) + "  </dependencies>\n"
    return ('<?xml version="1.0" encoding="UTF-8"?>\n'
            '<project xmlns="http://maven.apache.org/POM/4.0.0"'
            ' xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"'
            ' xsi:schemaLocation="http://maven.apache.org/POM/4.0.0'
            ' https://maven.apache.org/xsd/maven-4.0.0.xsd">\n'
            "  <modelVersion>4.0.0</modelVersion>\n"
            f"  <groupId>{GROUP}</groupId>\n"
            f"  <artifactId>{artifact}</artifactId>\n"
            f"  <version>{version}</version>\n"
            "  <packaging>jar</packaging>\n"
            f"  <name>{artifact}</name>\n"
            f"  <description>Fixture artifact {GROUP}:{artifact}</description>\n"
            + dep_xml + "</project>\n")


def make_jar(artifact, version):
    """A real jar: META-INF/MANIFEST.MF first, then a class-path resource and pom.properties."""
    manifest = ("Manifest-Version: 1.0\r\n"
                "Created-By: cafs-mkfixtures\r\n"
                f"Implementation-Title: {artifact}\r\n"
                f"Implementation-Version: {version}\r\n\r\n")
    resource = f"artifact={artifact}\nversion={version}\n"
    pom_props = f"groupId={GROUP}\nartifactId={artifact}\nversion={version}\n"
    return make_zip([
        ("META-INF/MANIFEST.MF", manifest.encode(), zipfile.ZIP_DEFLATED),
        (f"META-INF/maven/{GROUP}/{artifact}/pom.properties", pom_props.encode(), zipfile.ZIP_DEFLATED),
        (f"{GROUP_PATH}/{artifact.split('-')[-1]}/{artifact}.properties", resource.encode(),
         zipfile.ZIP_DEFLATED),
    ])


def write_with_sums(out, rel, data):
    """A file plus its .sha1 and .md5 companions (bare hex, no file name, as Maven writes)."""
    data = out.write(rel, data)
    out.write(rel + ".sha1", hashlib.sha1(data).hexdigest())
    out.write(rel + ".md5", hashlib.md5(data).hexdigest())


def build_maven(out):
    # artifact -> [(version, dependencies)]
    artifacts = {
        "ext-core": [("1.0", []), ("1.1", [(GROUP, "ext-util", "1.0")]), ("2.0-SNAPSHOT", [])],
        "ext-util": [("1.0", [])],
    }
    snapshot_stamp, snapshot_build = "20230301.120000", 1
    for artifact in sorted(artifacts):
        adir = f"maven/{GROUP_PATH}/{artifact}"
        versions = []
        for version, deps in artifacts[artifact]:
            versions.append(version)
            vdir = f"{adir}/{version}"
            if version.endswith("-SNAPSHOT"):
                # a deployed snapshot: timestamped files plus the per-version metadata; the
                # external connection must never ingest any of it
                base = version[:-len("-SNAPSHOT")]
                stamped = f"{base}-{snapshot_stamp}-{snapshot_build}"
                write_with_sums(out, f"{vdir}/{artifact}-{stamped}.pom", make_pom(artifact, version, deps))
                write_with_sums(out, f"{vdir}/{artifact}-{stamped}.jar", make_jar(artifact, version))
                meta = ('<?xml version="1.0" encoding="UTF-8"?>\n<metadata modelVersion="1.1.0">\n'
                        f"  <groupId>{GROUP}</groupId>\n  <artifactId>{artifact}</artifactId>\n"
                        f"  <version>{version}</version>\n  <versioning>\n    <snapshot>\n"
                        f"      <timestamp>{snapshot_stamp}</timestamp>\n"
                        f"      <buildNumber>{snapshot_build}</buildNumber>\n    </snapshot>\n"
                        f"    <lastUpdated>{snapshot_stamp.replace('.', '')}</lastUpdated>\n"
                        "    <snapshotVersions>\n" + "".join(
                            "      <snapshotVersion>\n"
                            f"        <extension>{ext}</extension>\n"
                            f"        <value>{stamped}</value>\n"
                            f"        <updated>{snapshot_stamp.replace('.', '')}</updated>\n"
                            "      </snapshotVersion>\n" for ext in ("jar", "pom")) +
                        "    </snapshotVersions>\n  </versioning>\n</metadata>\n")
                write_with_sums(out, f"{vdir}/maven-metadata.xml", meta)
            else:
                write_with_sums(out, f"{vdir}/{artifact}-{version}.pom", make_pom(artifact, version, deps))
                write_with_sums(out, f"{vdir}/{artifact}-{version}.jar", make_jar(artifact, version))
        releases = [v for v in versions if not v.endswith("-SNAPSHOT")]
        meta = ('<?xml version="1.0" encoding="UTF-8"?>\n<metadata>\n'
                f"  <groupId>{GROUP}</groupId>\n  <artifactId>{artifact}</artifactId>\n"
                "  <versioning>\n"
                f"    <latest>{versions[-1]}</latest>\n"
                f"    <release>{releases[-1]}</release>\n"
                "    <versions>\n" + "".join(f"      <version>{v}</version>\n" for v in versions) +
                "    </versions>\n    <lastUpdated>20230301120000</lastUpdated>\n"
                "  </versioning>\n</metadata>\n")
        write_with_sums(out, f"{adir}/maven-metadata.xml", meta)


def main(argv):
    if len(argv) != 2 or argv[1].startswith("-"):
        print("usage: mkfixtures.py OUT", file=sys.stderr)
        return 2
    out = Out(argv[1])
    os.makedirs(out.root, exist_ok=True)
    build_pypi(out)
    build_npm(out)
    build_maven(out)
    out.write_manifest()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
