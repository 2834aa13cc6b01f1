#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""The data set and the timed loops of `tools/bench --scale N` (tools/bench is the entry point).

    bench_scale.py seeds OUT
        writes the seed package files into OUT: a wheel, an npm tarball, a jar with its POM
        (tools/bench publishes them with `cafs publish`, so their blobs and rows are real)
    bench_scale.py generate DB N [--wide W]
        fills the domain database DB (made by cafs create-domain and create-repository, the
        seeds published into base) with N package versions, in bulk transactions; prints one
        JSON object (counts, seconds)
    bench_scale.py paths DB KIND COUNT OUT
        writes COUNT mount paths of KIND (versions, pypi-index, maven-metadata), chosen at
        random with a fixed seed, one per line
    bench_scale.py stat LIST | read LIST
        os.stat / open+read every path of LIST (relative to the current folder) once; prints
        the seconds, timed inside Python (no interpreter start-up)
    bench_scale.py native DIR COUNT
        makes COUNT empty folders in DIR, named as the wide repository's packages

The data set (N versions; W = min(100,000, N/10) unless --wide): repositories leaf -> mid ->
base (each the upstream of the one before) and wide. wide holds W PyPI packages of one
version each (its pypi/ folder is W entries). The other N - W versions are 10 per package,
(N - W) / 10 packages spread over the chain (leaf 10%, mid 30%, base 60%) and the formats
(pypi 40%, npm 35% of which a third scoped, maven 25% in 100 groupIds com.example.gNNN).
Every generated row is what a publish through cafs writes for such a file (store/package.c
publish_rows, store_pkg_update_revision): a Published version with its revision, origin
INTERNAL and entry repository, published/created/updated times, metadata (summary, licenses,
requires-python for PyPI), one dependency, its assets (a wheel with its PEP 658 metadata blob;
package.tgz; a jar and a POM), npm's latest dist-tag, the package's publish-arrival origin
controls, and one audit row per asset. Assets share the seeds' blobs (a deduplicated domain):
the blob rows and files are the real ones `cafs publish` made.
"""

import base64
import hashlib
import io
import json
import os
import random
import sqlite3
import sys
import tarfile
import time
import zipfile

VERSIONS_PER_PACKAGE = 10
FORMATS = ["pypi"] * 8 + ["npm"] * 7 + ["maven"] * 5  # by package index modulo 20
REPOS = ["leaf"] + ["mid"] * 3 + ["base"] * 6  # by (package index // 20) modulo 10
SEED = "scale-seed"


def chain_package(k):
    """Repository, format, namespace, name and display name of chain package k."""
    fmt = FORMATS[k % 20]
    repo = REPOS[(k // 20) % 10]
    if fmt == "pypi":
        return repo, fmt, "", f"pkg-{k:07d}", f"pkg-{k:07d}"
    if fmt == "npm":
        if k % 3 == 0:
            ns = f"scope{k % 50:02d}"
            return repo, fmt, ns, f"lib-{k:07d}", f"@{ns}/lib-{k:07d}"
        return repo, fmt, "", f"npm-{k:07d}", f"npm-{k:07d}"
    group = (7 * (k // 20) + k % 20) % 100  # every group gets artifacts of every repository
    return repo, fmt, f"com.example.g{group:03d}", f"art-{k:07d}", f"art-{k:07d}"


def version_name(j):
    return f"1.{j}.0"


def mount_path(repo, fmt, ns, name):
    """The package folder's path below the mount root."""
    if fmt == "npm" and ns:
        return f"{repo}/npm/@{ns}/{name}"
    if fmt == "maven":
        return f"{repo}/maven/{ns.replace('.', '/')}/{name}"
    return f"{repo}/{fmt}/{name}"


def revision(assets, meta):
    """store_pkg_update_revision(): SHA-256 over (name NUL sha256 LF) by name, then each of
    display_name, summary, home_page, source_code_repository, licenses, requires_python with
    its NUL; base64."""
    h = hashlib.sha256()
    for name, sha in sorted(assets):
        h.update(name.encode() + b"\0" + sha.encode() + b"\n")
    for v in meta:
        h.update((v or "").encode() + b"\0")
    return base64.b64encode(h.digest()).decode()


# --- seeds ------------------------------------------------------------------------------------


def seeds(out):
    os.makedirs(out, exist_ok=True)
    dist = SEED.replace("-", "_")
    with zipfile.ZipFile(f"{out}/{dist}-1.0.0-py3-none-any.whl", "w") as z:
        z.writestr(f"{dist}/__init__.py", "")
        z.writestr(
            f"{dist}-1.0.0.dist-info/METADATA",
            f"Metadata-Version: 2.1\nName: {SEED}\nVersion: 1.0.0\nSummary: seed\n"
            "Requires-Python: >=3.8\nLicense: MIT\nRequires-Dist: requests>=2\n\n",
        )
        z.writestr(
            f"{dist}-1.0.0.dist-info/WHEEL",
            "Wheel-Version: 1.0\nGenerator: cafs-bench\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
        )
        z.writestr(f"{dist}-1.0.0.dist-info/RECORD", "")
    pj = json.dumps(
        {
            "name": f"@seed/{SEED}",
            "version": "1.0.0",
            "description": "seed",
            "license": "MIT",
            "dependencies": {"left-pad": "^1.0.0"},
        }
    ).encode()
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as t:
        info = tarfile.TarInfo("package/package.json")
        info.size = len(pj)
        t.addfile(info, io.BytesIO(pj))
    with open(f"{out}/{SEED}-1.0.0.tgz", "wb") as f:
        f.write(buf.getvalue())
    with open(f"{out}/{SEED}-1.0.0.pom", "w") as f:
        f.write(
            '<project xmlns="http://maven.apache.org/POM/4.0.0"><modelVersion>4.0.0</modelVersion>'
            f"<groupId>com.example.seed</groupId><artifactId>{SEED}</artifactId>"
            "<version>1.0.0</version><description>seed</description><licenses><license>"
            "<name>MIT</name></license></licenses><dependencies><dependency>"
            "<groupId>org.example</groupId><artifactId>dep</artifactId><version>1.0</version>"
            "</dependency></dependencies></project>\n"
        )
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("META-INF/MANIFEST.MF", "Manifest-Version: 1.0\nCreated-By: cafs-bench\n")
    with open(f"{out}/{SEED}-1.0.0.jar", "wb") as f:
        f.write(buf.getvalue())


# --- generate ---------------------------------------------------------------------------------


def seed_blobs(db):
    """(blob id, sha256, metadata blob id) per seed asset kind, from the real publishes."""
    rows = db.execute(
        "SELECT p.format, a.name, a.blob_id, b.sha256, a.metadata_blob_id FROM packages p "
        "JOIN package_versions v ON v.package_id = p.id JOIN assets a ON a.version_id = v.id "
        "JOIN blobs b ON b.id = a.blob_id WHERE p.name = ?",
        (SEED,),
    ).fetchall()
    got = {}
    for fmt, name, blob, sha, meta in rows:
        kind = {"pypi": "whl", "npm": "tgz"}.get(fmt) or name.rsplit(".", 1)[1]
        got[kind] = (blob, sha, meta)
    missing = {"whl", "tgz", "jar", "pom"} - set(got)
    if missing or got["whl"][2] is None:
        sys.exit(f"bench_scale: the seed publishes are missing: {sorted(missing)}")
    return got


def check_revisions(db):
    """The revision formula here must be store_pkg_update_revision()'s: check it on the seeds."""
    for vid, rev, dn, su, hp, scr, lic, rp in db.execute(
        "SELECT id, revision, display_name, summary, home_page, source_code_repository, "
        "licenses, requires_python FROM package_versions"
    ).fetchall():
        assets = db.execute(
            "SELECT a.name, b.sha256 FROM assets a JOIN blobs b ON b.id = a.blob_id "
            "WHERE a.version_id = ?",
            (vid,),
        ).fetchall()
        if revision(assets, (dn, su, hp, scr, lic, rp)) != rev:
            sys.exit(f"bench_scale: revision formula disagrees with cafs on version row {vid}")


def generate(path, n, wide):
    t0 = time.monotonic()
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("PRAGMA synchronous = OFF")
    db.execute("PRAGMA cache_size = -524288")
    db.execute("PRAGMA foreign_keys = ON")
    check_revisions(db)
    blobs = seed_blobs(db)
    owner, domain = db.execute("SELECT owner, name FROM domain").fetchone()
    repo_id = dict(db.execute("SELECT name, id FROM repositories").fetchall())
    for r in ("leaf", "mid", "base", "wide"):
        if r not in repo_id:
            sys.exit(f"bench_scale: repository '{r}' missing")
    (who,) = db.execute(
        "SELECT who FROM audit WHERE action = 'PublishPackageVersion' LIMIT 1"
    ).fetchone()
    if wide is None:
        wide = min(100_000, n // 10)
    chain_versions = max(0, n - wide)
    n_chain = chain_versions // VERSIONS_PER_PACKAGE
    pkg_id = db.execute("SELECT coalesce(max(id), 0) FROM packages").fetchone()[0]
    ver_id = db.execute("SELECT coalesce(max(id), 0) FROM package_versions").fetchone()[0]
    total = n_chain * VERSIONS_PER_PACKAGE + wide
    now_us = int(time.time() * 1e6)
    t_us = now_us - total * 1000 - 60_000_000  # one publish a millisecond, ending a minute ago
    lic = '[{"name":"MIT"}]'
    arn = f"arn:aws:codeartifact:local:{owner}:package/{domain}"

    pk, pv, asset, dep, tag, audit = [], [], [], [], [], []

    def flush():
        db.execute("BEGIN")
        db.executemany(
            "INSERT INTO packages (id, repository_id, format, namespace, name, display_name, "
            "origin_publish, origin_upstream, created_us) VALUES (?, ?, ?, ?, ?, ?, 'ALLOW', "
            "'BLOCK', ?)",
            pk,
        )
        db.executemany(
            "INSERT INTO package_versions (id, package_id, version, status, revision, "
            "origin_type, entry_repository, published_us, display_name, summary, licenses, "
            "requires_python, created_us, updated_us) VALUES (?, ?, ?, 'Published', ?, "
            "'INTERNAL', ?, ?, ?, ?, ?, ?, ?, ?)",
            pv,
        )
        db.executemany(
            "INSERT INTO assets (version_id, name, blob_id, created_us, metadata_blob_id) "
            "VALUES (?, ?, ?, ?, ?)",
            asset,
        )
        db.executemany(
            "INSERT INTO dependencies (version_id, position, namespace, package, "
            "dependency_type, version_requirement) VALUES (?, 0, ?, ?, ?, ?)",
            dep,
        )
        db.executemany("INSERT INTO dist_tags (package_id, tag, version) VALUES (?, 'latest', ?)", tag)
        db.executemany(
            "INSERT INTO audit (time_us, who, action, resource, outcome, reason) VALUES "
            "(?, ?, 'PublishPackageVersion', ?, 'ok', ?)",
            audit,
        )
        db.execute("COMMIT")
        for l in (pk, pv, asset, dep, tag, audit):
            l.clear()

    def add(repo, fmt, ns, name, display, versions):
        nonlocal pkg_id, ver_id, t_us
        pkg_id += 1
        pk.append((pkg_id, repo_id[repo], fmt, ns, name, display, t_us))
        for j in versions:
            ver_id += 1
            t_us += 1000
            v = version_name(j)
            summary = f"generated package {name}"
            rp = ">=3.8" if fmt == "pypi" else None
            if fmt == "pypi":
                files = [(f"{name.replace('-', '_')}-{v}-py3-none-any.whl", "whl")]
                dep.append((ver_id, "", "requests", "Requires-Dist", ">=2"))
            elif fmt == "npm":
                files = [("package.tgz", "tgz")]
                dep.append((ver_id, "", "left-pad", "regular", "^1.0.0"))
            else:
                files = [(f"{name}-{v}.pom", "pom"), (f"{name}-{v}.jar", "jar")]
                dep.append((ver_id, "org.example", "dep", "compile", "1.0"))
            rev = revision([(f, blobs[k][1]) for f, k in files], (display, summary, None, None, lic, rp))
            pv.append((ver_id, pkg_id, v, rev, repo, t_us, display, summary, lic, rp, t_us, t_us))
            for f, k in files:
                b = blobs[k]
                asset.append((ver_id, f, b[0], t_us, b[2] if k == "whl" else None))
                audit.append((t_us, who, f"{arn}/{repo}/{fmt}/{ns}/{name}/{v}", f))
        if fmt == "npm":
            tag.append((pkg_id, version_name(max(versions))))

    for k in range(n_chain):
        repo, fmt, ns, name, display = chain_package(k)
        add(repo, fmt, ns, name, display, range(VERSIONS_PER_PACKAGE))
        if len(pv) >= 50_000:
            flush()
    for w in range(wide):
        add("wide", "pypi", "", f"wide-{w:06d}", f"wide-{w:06d}", range(1))
        if len(pv) >= 50_000:
            flush()
    flush()
    t_rows = time.monotonic() - t0
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.close()
    json.dump(
        {
            "versions": total,
            "chain_packages": n_chain,
            "wide_packages": wide,
            "rows_seconds": round(t_rows, 2),
            "seconds": round(time.monotonic() - t0, 2),
        },
        sys.stdout,
    )
    print()


# --- paths and timed loops --------------------------------------------------------------------


def paths(path, kind, count, out):
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    (n_chain,) = db.execute(
        "SELECT count(*) FROM packages p JOIN repositories r ON r.id = p.repository_id "
        "WHERE r.name IN ('leaf', 'mid', 'base') AND p.name <> ?",
        (SEED,),
    ).fetchone()
    db.close()
    rng = random.Random(20260101)
    want = {"versions": None, "pypi-index": "pypi", "maven-metadata": "maven"}[kind]
    pool = [k for k in range(n_chain) if want is None or FORMATS[k % 20] == want]
    lines = []
    if kind == "versions":
        every = [(k, j) for k in pool for j in range(VERSIONS_PER_PACKAGE)]
        for k, j in rng.sample(every, min(count, len(every))):
            _, fmt, ns, name, _ = chain_package(k)
            lines.append(f"{mount_path('leaf', fmt, ns, name)}/{version_name(j)}")
    else:
        for k in rng.sample(pool, min(count, len(pool))):
            _, fmt, ns, name, _ = chain_package(k)
            f = "index.html" if fmt == "pypi" else "maven-metadata.xml"
            lines.append(f"{mount_path('leaf', fmt, ns, name)}/{f}")
    with open(out, "w") as f:
        f.write("\n".join(lines) + "\n")


def timed(listing, fn):
    with open(listing) as f:
        ps = [line.rstrip("\n") for line in f if line.strip()]
    t = time.perf_counter()
    for p in ps:
        fn(p)
    print(f"{time.perf_counter() - t:.6f}")


def read_all(p):
    with open(p, "rb") as f:
        if not f.read():
            sys.exit(f"bench_scale: {p} is empty")


def native(d, count):
    os.makedirs(d, exist_ok=True)
    for w in range(count):
        os.mkdir(f"{d}/wide-{w:06d}")


def main(argv):
    if len(argv) >= 2 and argv[1] == "seeds" and len(argv) == 3:
        seeds(argv[2])
    elif len(argv) >= 4 and argv[1] == "generate":
        wide = int(argv[5]) if len(argv) == 6 and argv[4] == "--wide" else None
        generate(argv[2], int(argv[3]), wide)
    elif len(argv) == 6 and argv[1] == "paths":
        paths(argv[2], argv[3], int(argv[4]), argv[5])
    elif len(argv) == 3 and argv[1] == "stat":
        timed(argv[2], os.stat)
    elif len(argv) == 3 and argv[1] == "read":
        timed(argv[2], read_all)
    elif len(argv) == 4 and argv[1] == "native":
        native(argv[2], int(argv[3]))
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main(sys.argv)
