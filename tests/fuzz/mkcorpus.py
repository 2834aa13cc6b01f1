#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Writes the seed inputs of the fuzz targets (docs/fuzzing.md).

    mkcorpus.py [CORPUS]

writes into CORPUS (default: the corpus/ folder next to this script) one folder per target,
each seed a small real input named seed-<what>:

  extract/        a kind byte (see fuzz_extract.c) + a package file: wheels, sdists (tar.gz,
                  zip), npm tarballs, POMs, and the hostile files of tests/unit/test_store_extract.c
                  that are small (zip bomb headers, traversal names, links, bad JSON, DOCTYPE)
  group_pattern/  package group patterns, one per seed, and multi-line sets with coordinates
  view_path/      mount paths into the domain that fuzz_view_path.c builds
  remote/         a parser byte (see fuzz_remote.c) + a PEP 503 page, PEP 691 JSON, packument,
                  maven-metadata.xml, checksum file, "<base>\\n<reference>" URL pair, time

The output is deterministic (fixed archive times). Seeds are kept small: the corpus is
committed. Inputs found by fuzzing are added beside the seeds under their libFuzzer names
(minimized with -merge=1); this script never deletes those.
Python 3 standard library only.
"""

import gzip
import io
import os
import sys
import tarfile
import zipfile

ZIP_TIME = (2023, 1, 1, 0, 0, 0)
TAR_TIME = 1672531200

# fuzz_extract.c: kind = byte % 6; byte / 6 odd = also through an fd
DETECT, WHEEL, SDIST_TGZ, SDIST_ZIP, NPM_TGZ, POM = range(6)
FD = 6


def zipped(files):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for n, data in files:
            zi = n if isinstance(n, zipfile.ZipInfo) else zipfile.ZipInfo(n, ZIP_TIME)
            zi.compress_type = zipfile.ZIP_DEFLATED
            z.writestr(zi, data)
    return buf.getvalue()


def tgz(files):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.USTAR_FORMAT) as t:
        for n, data in files:
            ti = n if isinstance(n, tarfile.TarInfo) else tarfile.TarInfo(n)
            ti.mtime = TAR_TIME
            ti.size = len(data or b"")
            t.addfile(ti, io.BytesIO(data) if data else None)
    return gzip.compress(buf.getvalue(), mtime=0)


def pkginfo(name, ver):
    return ("Name: %s\nVersion: %s\n" % (name, ver)).encode()


META = b"""Metadata-Version: 2.1
Name: Demo.Pkg
Version: 1.2.3
Summary: A demo
 package for tests
Home-page: https://example.org/demo
Project-URL: Documentation, https://docs.example.org
Project-URL: Source Code, https://github.com/example/demo
License: MIT
Requires-Python: >=3.8
Requires-Dist: requests (>=2.0) ; extra == "x"
Requires-Dist: idna>=2.5,<4
Requires-Dist: urllib3[socks] (<3,>=1.21.1)
Classifier: License :: OSI Approved :: MIT License

# Demo

Body with **markdown**.
"""

OLD = b"""Metadata-Version: 1.2
Name: oldpkg
Version: 0.1
Summary: UNKNOWN
Home-page: UNKNOWN
License: UNKNOWN
Description: First line
        second line
                indented
        
       |after pipe
Classifier: License :: OSI Approved :: BSD License
Project-URL: Homepage, https://old.example
"""

PKGINFO = b"""Metadata-Version: 2.4
Name: demo-sdist
Version: 2.0
License-Expression: Apache-2.0
Project-URL: Repository, https://git.example/sdist
Requires-Dist: six

Sdist readme.
"""

PJ = b"""{"name": "@acme/widget", "version": "1.0.0-beta.1",
 "description": "A widget", "homepage": "https://acme.example/widget",
 "repository": {"type": "git", "url": "git+https://github.com/acme/widget.git"},
 "license": {"type": "MIT", "url": "https://opensource.org/licenses/MIT"},
 "dependencies": {"lodash": "^4.17.21", "@acme/core": "~2.0.0"},
 "devDependencies": {"jest": "29.x"},
 "peerDependencies": {"react": ">=17"},
 "optionalDependencies": {"fsevents": "*"}}"""

PJ2 = b"""{"name": "left-pad", "version": "1.3.0",
 "repository": "github:stevemao/left-pad", "readme": "inline readme",
 "licenses": [{"type": "MIT", "url": "http://x.example/mit"}, "ISC"]}"""

POM_XML = b"""<?xml version="1.0" encoding="UTF-8"?>
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <parent><groupId>org.example</groupId><artifactId>parent</artifactId>
    <version>7</version></parent>
  <artifactId>lib</artifactId>
  <version>1.0</version>
  <name>Lib</name>
  <description>A library</description>
  <url>https://lib.example</url>
  <scm><url>https://github.com/example/lib</url></scm>
  <licenses><license><name>Apache-2.0</name>
    <url>https://www.apache.org/licenses/LICENSE-2.0</url></license></licenses>
  <dependencies>
    <dependency><groupId>${project.groupId}</groupId><artifactId>core</artifactId>
      <version>${project.version}</version></dependency>
    <dependency><groupId>junit</groupId><artifactId>junit</artifactId>
      <version>4.13</version><scope>test</scope><optional>true</optional></dependency>
  </dependencies>
  <dependencyManagement><dependencies><dependency><groupId>x</groupId>
    <artifactId>managed</artifactId></dependency></dependencies></dependencyManagement>
</project>
"""

POM_NS = b"""<pom:project xmlns:pom="http://maven.apache.org/POM/4.0.0">
<pom:groupId>com.example</pom:groupId><pom:artifactId>ns</pom:artifactId>
<pom:version>2</pom:version></pom:project>"""

BOMB = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;">]>
<project><groupId>&lol2;</groupId><artifactId>a</artifactId><version>1</version></project>"""


def extract_seeds():
    npm_ok = ("package/package.json", b'{"name": "x", "version": "1"}')
    wheel = zipped([("demo/__init__.py", b"print(1)\n"),
                    ("demo-1.2.3.dist-info/METADATA", META),
                    ("demo-1.2.3.dist-info/WHEEL", b"Wheel-Version: 1.0\n")])
    sdist = [("demo_sdist-2.0/setup.py", b"# setup\n"),
             ("demo_sdist-2.0/PKG-INFO", PKGINFO),
             ("demo_sdist-2.0/demo_sdist.egg-info/PKG-INFO", pkginfo("wrong", "9"))]
    scoped = tgz([("package/package.json", PJ), ("package/README.md", b"# Widget\n")])
    # a zip whose zeros.bin declares 4 GiB in both its headers
    zb = bytearray(zipped([("bomb-1.dist-info/METADATA", pkginfo("bomb", "1")),
                           ("bomb/zeros.bin", b"\0" * 4096)]))
    for sig, size_at, name_at in ((b"PK\3\4", 22, 30), (b"PK\1\2", 24, 46)):
        i = zb.find(sig)
        while i >= 0:
            if zb[i + name_at:].startswith(b"bomb/zeros.bin"):
                zb[i + size_at:i + size_at + 4] = (0xFFFFFFF0).to_bytes(4, "little")
            i = zb.find(sig, i + 4)
    hdr = tarfile.TarInfo("package/huge.bin")
    hdr.size = 3 << 30
    link = zipfile.ZipInfo("link-1.dist-info/METADATA", ZIP_TIME)
    link.create_system = 3
    link.external_attr = 0o120777 << 16
    sym = tarfile.TarInfo("package/package.json")
    sym.type = tarfile.SYMTYPE
    sym.linkname = "/etc/passwd"
    return {
        "wheel": (WHEEL, wheel),
        "wheel-detect": (DETECT, wheel),
        "wheel-fd": (WHEEL + FD, wheel),
        "wheel-old": (WHEEL, zipped([("oldpkg-0.1.dist-info/METADATA", OLD)])),
        "sdist-tgz": (SDIST_TGZ, tgz(sdist)),
        "sdist-tgz-fd": (SDIST_TGZ + FD, tgz(sdist)),
        "sdist-zip": (SDIST_ZIP, zipped(sdist)),
        "npm-scoped": (NPM_TGZ, scoped),
        "npm-detect": (DETECT, scoped),
        "npm-fd": (NPM_TGZ + FD, scoped),
        "npm-other-top": (NPM_TGZ, tgz([("node/package.json", PJ2),
                                        ("node/README", b"plain readme")])),
        "pom": (POM, POM_XML),
        "pom-detect": (DETECT, POM_XML),
        "pom-fd": (POM + FD, POM_XML),
        "pom-prefixed": (POM, POM_NS),
        "pom-doctype": (POM, BOMB),
        "pom-latin1": (POM, b"<project><groupId>caf\xe9</groupId></project>"),
        "hostile-bomb": (WHEEL, bytes(zb)),
        "hostile-huge-tar": (NPM_TGZ, gzip.compress(
            hdr.tobuf(format=tarfile.USTAR_FORMAT) + bytes(1024), mtime=0)),
        "hostile-dotdot": (NPM_TGZ, tgz([npm_ok, ("package/a/../../evil", b"x")])),
        "hostile-abs": (WHEEL, zipped([("abs-1.dist-info/METADATA", pkginfo("abs", "1")),
                                       ("/etc/evil", b"x")])),
        "hostile-backslash": (WHEEL, zipped([("bs-1.dist-info/METADATA", pkginfo("bs", "1")),
                                             ("..\\evil", b"x")])),
        "hostile-truncated": (NPM_TGZ, scoped[:len(scoped) // 2]),
        "hostile-notjson": (NPM_TGZ, tgz([("package/package.json", b'{"name": "x", ')])),
        "hostile-nover": (WHEEL, zipped([("nover-1.dist-info/METADATA", b"Name: nover\n")])),
        "hostile-latin1": (WHEEL, zipped([("latin-1.dist-info/METADATA",
                                           b"Name: caf\xe9\nVersion: 1\n")])),
        "hostile-two-meta": (WHEEL, zipped([("a-1.dist-info/METADATA", pkginfo("a", "1")),
                                            ("b-1.dist-info/METADATA", pkginfo("b", "1"))])),
        "hostile-link": (WHEEL, zipped([(link, b"/etc/passwd")])),
        "hostile-symlink": (NPM_TGZ, tgz([(sym, None)])),
        "crlf": (WHEEL, zipped([("crlf-1.dist-info/METADATA",
                                 b"Name: crlf\r\nVersion: 1\r\nSummary: s\r\n\r\nbody\r\n")])),
        "baddep": (WHEEL, zipped([("baddep-1.dist-info/METADATA",
                                   pkginfo("baddep", "1") + b"Requires-Dist: >=1\n")])),
    }


GROUP_PATTERNS = [
    "/*", "/npm/*", "/pypi/*", "/maven/com.anycompany~", "/npm/space/*", "/pypi//*",
    "/npm/space/anycompany-ui~", "/npm/space/anycompany~", "/npm//left-pad$",
    "/maven/org.apache.logging.log4j/log4j-core$", "/pypi//requests~", "/generic/acme/*",
    "/nuget//newtonsoft.json$", "/swift/apple/swift-nio$", "/cargo//serde~", "/ruby//rails$",
    # refused
    "/pypi/x~", "/maven//lib$", "/pypi//Requests$", "/npm/*x", "/npm/space$", "npm/*",
    "/nope/*", "/npm/space/a b$", "/npm/\u0430ny~", "/npm/space/\u00e9t\u00e9~",
]

GROUP_SETS = [
    "/*\n/npm/*\n/npm/space/*\n/npm/space/anycompany~\n/npm/space/anycompany-ui$\n"
    "=npm space anycompany-ui\n=npm space AnyCompany-UI\n=npm - left-pad\n",
    "/*\n/maven/com.anycompany~\n/maven/com.anycompany.team~\n/maven/com.anycompany/lib$\n"
    "=maven com.anycompany lib\n=maven com.anycompany.team.x core\n",
    "/pypi/*\n/pypi//req~\n/pypi//requests$\n=pypi - requests\n=pypi - req-oauthlib\n",
]

VIEW_PATHS = [
    "/", "/team", "/edge", "/up", "/nope",
    "/team/pypi", "/team/pypi/index.html", "/team/pypi/demo-pkg", "/team/pypi/demo-pkg/",
    "/team/pypi/demo-pkg/index.html", "/team/pypi/demo-pkg/1.0",
    "/team/pypi/demo-pkg/1.0/demo_pkg-1.0-py3-none-any.whl",
    "/team/pypi/demo-pkg/1.0/demo_pkg-1.0-py3-none-any.whl.metadata",
    "/team/pypi/demo-pkg/1.1/demo-pkg-1.1.tar.gz", "/team/pypi/demo-pkg/1.2",
    "/team/pypi/Demo.Pkg", "/team/pypi/other-pkg/2.0",
    "/edge/npm", "/edge/npm/@acme", "/edge/npm/@acme/widget/1.0.0/package.tgz",
    "/up/npm/@acme/widget", "/team/npm/left-pad", "/up/npm/left-pad/1.3.0",
    "/team/maven", "/team/maven/com", "/team/maven/com/example",
    "/team/maven/com/example/lib", "/team/maven/com/example/lib/maven-metadata.xml",
    "/team/maven/com/example/lib/maven-metadata.xml.sha1",
    "/team/maven/com/example/lib/1.0/lib-1.0.pom",
    "/team/maven/com/example/lib/1.0/lib-1.0.jar.sha256",
    "/team/maven/com/example/lib/1.0/lib-1.0.jar.md5",
    "/up/generic", "/up/generic/acme", "/up/generic/acme/tool/1.0/tool.bin",
    "/team/generic/acme/wip/0.1", "/team/generic/acme/tool",
    "/up/npm/@acme", "/up/pypi/demo-pkg/1.0/demo_pkg-1.0-py3-none-any.whl",
    "/up/pypi/demo-pkg/1.0/demo_pkg-1.0-py3-none-any.whl.metadata",
    "/up/pypi/demo-pkg/1.1/demo-pkg-1.1.tar.gz", "/edge/pypi/demo-pkg/1.0",
    "/edge/pypi/other-pkg/2.0/other_pkg-2.0-py3-none-any.whl",
    "/edge/maven/com/example/lib/1.0/lib-1.0.jar",
    "/team/./pypi", "/team/../up", "//team//pypi//", "/team/pypi/demo-pkg/1.0/x/y",
]

HTML = b"""<!DOCTYPE html>
<html><head><meta name="pypi:repository-version" content="1.1">
<base href="https://files.example/packages/"></head><body>
<h1>Links for demo-pkg</h1>
<a href="demo_pkg-1.0-py3-none-any.whl#sha256=%s" data-requires-python="&gt;=3.8">demo_pkg-1.0-py3-none-any.whl</a><br>
<a href='../other/demo-pkg-1.0.tar.gz#md5=%s'>demo-pkg-1.0.tar.gz</a>
<A HREF=demo_pkg-1.1-py3-none-any.whl data-yanked="">demo_pkg-1.1-py3-none-any.whl</A>
<a href="https://elsewhere.example/requests-2.0.tar.gz">requests-2.0.tar.gz</a>
<a href="demo_pkg-2.0.zip#sha512=%s" data-yanked="broken &amp; bad">demo_pkg-2.0.zip</a>
</body></html>
""" % (b"ab" * 32, b"cd" * 16, b"ef" * 64)

JSON691 = b"""{"meta": {"api-version": "1.1"}, "name": "demo-pkg",
 "versions": ["1.0", "1.1"],
 "files": [
  {"filename": "demo_pkg-1.0-py3-none-any.whl", "url": "../../files/demo_pkg-1.0-py3-none-any.whl",
   "hashes": {"sha256": "%s", "md5": "%s"}, "requires-python": ">=3.8", "size": 1234,
   "upload-time": "2023-01-01T00:00:00.123456Z"},
  {"filename": "demo-pkg-1.1.tar.gz", "url": "https://files.example/demo-pkg-1.1.tar.gz",
   "hashes": {}, "yanked": "bad release"},
  {"filename": "demo_pkg-1.1-py3-none-any.whl", "url": "x.whl", "hashes": {"sha512": "%s"},
   "yanked": true}
 ]}""" % (b"ab" * 32, b"cd" * 16, b"ef" * 64)


def packument(name, tarball):
    return b"""{"_id": "%s", "name": "%s",
 "dist-tags": {"latest": "1.3.0", "next": "2.0.0-rc.1"},
 "versions": {
  "1.3.0": {"name": "%s", "version": "1.3.0", "dist": {"tarball": "%s",
   "shasum": "%s", "integrity": "sha512-%s"}},
  "2.0.0-rc.1": {"name": "%s", "version": "2.0.0-rc.1", "dist": {"tarball": "../x.tgz",
   "integrity": "sha1-3q2+7w== sha256-47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU="}}},
 "time": {"created": "2016-01-01T00:00:00Z", "1.3.0": "2016-01-02T03:04:05.678Z",
  "2.0.0-rc.1": "garbage"}}""" % (name, name, name, tarball, b"12" * 20,
                                  b"z4PhNX7vuL3xVChQ1m2AB9Yg5AULVxXcg/SpIdNs6c5H0NE8XYXysP+DGNKHfuwvY7kxvUdBeoGlODJ6+SfaPg==",
                                  name)


MAVEN_MD = b"""<?xml version="1.0" encoding="UTF-8"?>
<metadata modelVersion="1.1.0">
  <groupId>com.example</groupId>
  <artifactId>lib</artifactId>
  <versioning>
    <latest>2.0-SNAPSHOT</latest><release>1.1</release>
    <versions><version>1.0</version><version>1.1</version><version>2.0-SNAPSHOT</version>
    </versions>
    <lastUpdated>20240101120000</lastUpdated>
  </versioning>
</metadata>
"""

URL_PAIRS = [
    b"http://a/b/c/d;p?q\ng:h", b"http://a/b/c/d;p?q\n../../../g", b"http://a/b/c/d;p?q\n//g",
    b"http://a/b/c/d;p?q\n?y#s", b"http://a/b/c/d;p?q\n./g/.", b"http://a/b/c/d;p?q\ng/../h",
    b"file:///srv/m/simple/x/index.html\n../../files/x-1.whl",
    b"https://h.example\nrel/a b", b"../x.whl#sha256=00",
]

TIMES = [b"2021-02-20T15:42:16.891Z", b"2000-02-29T00:00:00+00:00", b"1970-01-01T00:00:00",
         b"2016-12-31T23:59:60.999999Z", b"2021-02-30T00:00:00Z", b"9999-12-31T23:59:59Z"]


def remote_seeds():
    seeds = {
        "html": bytes([0]) + HTML,
        "html-file-url": bytes([8]) + HTML,
        "json": bytes([1]) + JSON691,
        "packument": bytes([2]) + packument(b"left-pad", b"https://r.example/left-pad/-/left-pad-1.3.0.tgz"),
        "packument-scoped": bytes([10]) + packument(b"@acme/widget", b"widget-1.3.0.tgz"),
        "maven-metadata": bytes([3]) + MAVEN_MD,
        "maven-doctype": bytes([3]) + b'<?xml version="1.0"?><!DOCTYPE m [<!ENTITY a "b">]><metadata/>',
        "checksum-md5": bytes([4]) + b"cd" * 16 + b"  lib-1.0.jar\n",
        "checksum-sha1": bytes([12]) + b"AB" * 20 + b"\n",
        "checksum-sha256": bytes([20]) + b" " + b"ef" * 32,
        "checksum-sha512": bytes([28]) + b"01" * 64,
        "hash-names": bytes([7]) + b"sha256",
    }
    for i, u in enumerate(URL_PAIRS):
        seeds["url-%d" % i] = bytes([5]) + u
    for i, t in enumerate(TIMES):
        seeds["time-%d" % i] = bytes([6]) + t
    return seeds


def write(folder, name, data):
    os.makedirs(folder, exist_ok=True)
    if isinstance(data, str):
        data = data.encode("utf-8")
    with open(os.path.join(folder, "seed-" + name), "wb") as f:
        f.write(data)


def main(argv):
    out = argv[1] if len(argv) > 1 else os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                                     "corpus")
    for name, (kind, data) in extract_seeds().items():
        write(os.path.join(out, "extract"), name, bytes([kind]) + data)
    for i, p in enumerate(GROUP_PATTERNS):
        write(os.path.join(out, "group_pattern"), "pattern-%02d" % i, p)
    for i, s in enumerate(GROUP_SETS):
        write(os.path.join(out, "group_pattern"), "set-%d" % i, s)
    for i, p in enumerate(VIEW_PATHS):
        write(os.path.join(out, "view_path"), "path-%02d" % i, p)
    for name, data in remote_seeds().items():
        write(os.path.join(out, "remote"), name, data)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
