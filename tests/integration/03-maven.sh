#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Maven, unmodified, against a mounted repository as a file:// repository: Debian's real jars
# and POMs (with the parent POMs and dependencies they name) published into an upstream
# repository and resolved through the downstream one, offline, with checksumPolicy=fail, so
# every .sha1 and the synthesized maven-metadata.xml (a version range reads it) must be right;
# the versions read are retained into the downstream repository.
#
# Maven runs offline: `-o` with `-Daether.offline.protocols=file` (Maven 3.8's resolver still
# reads file:// repositories then). Plugins come from Debian's /usr/share/maven-repo under the
# repository id `debian`; the project's dependencies only from the mount under the id `cafs`
# (central is disabled for both), so nothing a plugin pulled into the local repository can be
# mistaken for an artifact read through cafs (Maven tracks where each file came from by id).
. "$(dirname "$0")/lib.sh"

DEBREPO=/usr/share/maven-repo
if ! command -v mvn >/dev/null || [ ! -d "$DEBREPO/org/apache/maven/plugins/maven-dependency-plugin" ]; then
	echo "1..0 # SKIP needs Debian's maven and libmaven-dependency-plugin-java"
	exit 77
fi
# the newest maven-dependency-plugin Debian ships with its jar
DEPPLUGIN=
for v in $(ls "$DEBREPO/org/apache/maven/plugins/maven-dependency-plugin" | grep -E '^[0-9]' | sort -V); do
	[ -e "$DEBREPO/org/apache/maven/plugins/maven-dependency-plugin/$v/maven-dependency-plugin-$v.jar" ] && DEPPLUGIN=$v
done
JUNIT=$(ls "$DEBREPO/junit/junit" | grep -E '^4\.[0-9]+\.[0-9]+$' | sort -V | tail -1)
LANG3=$(ls "$DEBREPO/org/apache/commons/commons-lang3" | grep -E '^3\.[0-9]+\.[0-9]+$' | sort -V | tail -1)
if [ -z "$DEPPLUGIN" ] || [ -z "$JUNIT" ] || [ -z "$LANG3" ]; then
	echo "1..0 # SKIP needs maven-dependency-plugin, junit4 and libcommons-lang3-java in $DEBREPO"
	exit 77
fi
unset MAVEN_OPTS MAVEN_ARGS MAVEN_CONFIG
export JAVA_TOOL_OPTIONS= # keep "Picked up ..." out of the logs

# The files to publish: junit and commons-lang3 with everything their POMs need to be read,
# their parent POMs and their compile/runtime dependencies, followed through Debian's repo.
python3 - "$DEBREPO" "junit:junit:$JUNIT" "org.apache.commons:commons-lang3:$LANG3" >"$WORK/files" <<'PY' || { echo "Bail out! cannot follow the POMs in $DEBREPO"; exit 1; }
import os, sys, xml.etree.ElementTree as ET
repo, todo, seen = sys.argv[1], list(sys.argv[2:]), set()
def txt(e, tag):
    x = e.find(tag)
    return x.text.strip() if x is not None and x.text else None
while todo:
    gav = todo.pop()
    if gav in seen:
        continue
    seen.add(gav)
    g, a, v = gav.split(":")
    base = f"{repo}/{g.replace('.', '/')}/{a}/{v}/{a}-{v}"
    if not os.path.exists(base + ".pom"):
        sys.exit(f"missing {base}.pom")
    root = ET.parse(base + ".pom").getroot()
    for e in root.iter():  # drop the namespace
        e.tag = e.tag.split("}")[-1]
    if (txt(root, "packaging") or "jar") == "jar" and os.path.exists(base + ".jar"):
        print(base + ".jar")  # cafs publish takes the .pom beside it
    else:
        print(base + ".pom")
    p = root.find("parent")
    if p is not None:
        todo.append(f"{txt(p, 'groupId')}:{txt(p, 'artifactId')}:{txt(p, 'version')}")
    deps = root.find("dependencies")
    for d in (deps if deps is not None else []):
        if txt(d, "scope") in (None, "compile", "runtime") and txt(d, "optional") != "true":
            dv = txt(d, "version")
            if not dv or "$" in dv:
                sys.exit(f"{gav}: dependency {txt(d, 'artifactId')} has no literal version")
            todo.append(f"{txt(d, 'groupId')}:{txt(d, 'artifactId')}:{dv}")
PY
# G:A:V of every published file, for the checks below
gav_of() { # FILE -> G A V
	local rel=${1#"$DEBREPO"/} v a
	v=$(basename "$(dirname "$rel")")
	a=$(basename "$(dirname "$(dirname "$rel")")")
	echo "$(dirname "$(dirname "$(dirname "$rel")")" | tr / .) $a $v"
}

C() { "$CAFS" "$@" >/dev/null; }
C create-domain --domain mvn-it
C create-repository --domain mvn-it --repository base
C create-repository --domain mvn-it --repository app --upstreams repositoryName=base
# shellcheck disable=SC2046
if out=$("$CAFS" publish --domain mvn-it --repository base $(cat "$WORK/files") 2>&1); then
	pass "publish Debian's jars and POMs into base ($(wc -l <"$WORK/files") versions)"
else
	flunk "publish Debian's jars and POMs into base" "$out"
fi
same "app holds nothing before Maven runs" "$("$CAFS" list-packages --domain mvn-it --repository app | jq '.packages | length')" "0"

mount_domain mvn-it
REPO=$MNT/app/maven

cat >"$WORK/global-settings.xml" <<'EOF'
<settings/>
EOF
cat >"$WORK/settings.xml" <<EOF
<settings>
  <localRepository>$WORK/m2</localRepository>
  <offline>true</offline>
  <interactiveMode>false</interactiveMode>
  <profiles>
    <profile>
      <id>cafs</id>
      <repositories>
        <repository>
          <id>central</id><url>file:///nonexistent</url>
          <releases><enabled>false</enabled></releases><snapshots><enabled>false</enabled></snapshots>
        </repository>
        <repository>
          <id>cafs</id><url>file://$REPO</url>
          <releases><enabled>true</enabled><checksumPolicy>fail</checksumPolicy><updatePolicy>always</updatePolicy></releases>
          <snapshots><enabled>false</enabled></snapshots>
        </repository>
      </repositories>
      <pluginRepositories>
        <pluginRepository>
          <id>central</id><url>file:///nonexistent</url>
          <releases><enabled>false</enabled></releases><snapshots><enabled>false</enabled></snapshots>
        </pluginRepository>
        <pluginRepository>
          <id>debian</id><url>file://$DEBREPO</url>
          <releases><enabled>true</enabled><checksumPolicy>ignore</checksumPolicy></releases>
          <snapshots><enabled>false</enabled></snapshots>
        </pluginRepository>
      </pluginRepositories>
    </profile>
  </profiles>
  <activeProfiles><activeProfile>cafs</activeProfile></activeProfiles>
</settings>
EOF
DEP=org.apache.maven.plugins:maven-dependency-plugin:$DEPPLUGIN
# mvn LOG LOCALREPO ARGS...: Maven offline, file:// still readable; the log is kept for failures
mvn_() {
	local log=$1 local_repo=$2; shift 2
	mvn -B -o -Daether.offline.protocols=file -gs "$WORK/global-settings.xml" -s "$WORK/settings.xml" \
		-Dmaven.repo.local="$local_repo" "$@" >"$log" 2>&1
}
# tm NAME LOG LOCALREPO ARGS...: a Maven run that must succeed
tm() {
	local name=$1 log=$2; shift 2
	if mvn_ "$log" "$@"; then pass "$name"; else flunk "$name" "$(grep -E 'ERROR|FAIL' "$log" | head -8)"; fi
}
# from_cafs LOCALREPO G A V FILE: the local repository got FILE from the cafs repository
from_cafs() {
	grep -q "^$5>cafs=" "$1/$(echo "$2" | tr . /)/$3/$4/_remote.repositories" 2>/dev/null
}

JUNIT_JAR=$DEBREPO/junit/junit/$JUNIT/junit-$JUNIT.jar
LANG3_JAR=$DEBREPO/org/apache/commons/commons-lang3/$LANG3/commons-lang3-$LANG3.jar

# --- (a) dependency:get through the downstream repository --------------------------------------
tm "mvn dependency:get junit:junit:$JUNIT through app" "$WORK/get.log" "$WORK/m2" \
	"$DEP:get" -Dartifact="junit:junit:$JUNIT"
grep -q "Downloaded from cafs: file://$REPO/junit/junit/$JUNIT/junit-$JUNIT.jar" "$WORK/get.log" &&
	pass "Maven read the jar through the mount" || flunk "Maven read the jar through the mount" "$(grep -i cafs "$WORK/get.log" | head)"
t "the jar in the local repository is byte-identical" cmp "$WORK/m2/junit/junit/$JUNIT/junit-$JUNIT.jar" "$JUNIT_JAR"
t "the POM in the local repository is byte-identical" cmp "$WORK/m2/junit/junit/$JUNIT/junit-$JUNIT.pom" "$DEBREPO/junit/junit/$JUNIT/junit-$JUNIT.pom"
from_cafs "$WORK/m2" junit junit "$JUNIT" "junit-$JUNIT.jar" && pass "Maven records the jar as from cafs" ||
	flunk "Maven records the jar as from cafs" "$(cat "$WORK/m2/junit/junit/$JUNIT/_remote.repositories" 2>&1)"
t_fail "a version nobody has fails the build" "Could not find artifact junit:junit:jar:9.99.99" \
	mvn_ /dev/stdout "$WORK/m2" "$DEP:get" -Dartifact=junit:junit:9.99.99

# --- (b) a project resolving its dependencies through app, one of them by a version range --------
mkdir -p "$WORK/proj"
cat >"$WORK/proj/pom.xml" <<EOF
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>com.example.cafs</groupId>
  <artifactId>it-maven</artifactId>
  <version>1.0</version>
  <packaging>jar</packaging>
  <dependencies>
    <dependency><groupId>junit</groupId><artifactId>junit</artifactId><version>$JUNIT</version></dependency>
    <dependency><groupId>org.apache.commons</groupId><artifactId>commons-lang3</artifactId><version>[3.0,4.0)</version></dependency>
  </dependencies>
</project>
EOF
# a fresh local repository: a project's dependencies are resolved before its plugin's, so every
# POM and jar of the project comes through the mount
tm "mvn dependency:copy-dependencies (checksumPolicy=fail, a version range)" "$WORK/copy.log" "$WORK/m2b" \
	-f "$WORK/proj/pom.xml" "$DEP:copy-dependencies"
grep -q "Downloaded from cafs: file://$REPO/org/apache/commons/commons-lang3/maven-metadata.xml" "$WORK/copy.log" &&
	pass "the range was resolved from the synthesized maven-metadata.xml" ||
	flunk "the range was resolved from the synthesized maven-metadata.xml" "$(grep -E 'cafs|ERROR' "$WORK/copy.log" | head)"
grep -q "<version>$LANG3</version>" "$WORK/m2b/org/apache/commons/commons-lang3/maven-metadata-cafs.xml" 2>/dev/null &&
	pass "maven-metadata.xml lists $LANG3" || flunk "maven-metadata.xml lists $LANG3" "$(cat "$WORK/m2b/org/apache/commons/commons-lang3/maven-metadata-cafs.xml" 2>&1)"
t "junit copied byte-identical" cmp "$WORK/proj/target/dependency/junit-$JUNIT.jar" "$JUNIT_JAR"
t "commons-lang3 copied byte-identical" cmp "$WORK/proj/target/dependency/commons-lang3-$LANG3.jar" "$LANG3_JAR"
# every published file that the project needs came from cafs (the POMs Maven had to read included)
missing=
while read -r f; do
	read -r g a v <<<"$(gav_of "$f")"
	d=$WORK/m2b/$(echo "$g" | tr . /)/$a/$v
	# a parent POM the plugin's own POMs needed first is in the local repository already
	grep -q "^$a-$v.pom>debian=" "$d/_remote.repositories" 2>/dev/null && continue
	from_cafs "$WORK/m2b" "$g" "$a" "$v" "$a-$v.pom" || missing="$missing $g:$a:$v:pom"
	case $f in *.jar)
		from_cafs "$WORK/m2b" "$g" "$a" "$v" "$a-$v.jar" || missing="$missing $g:$a:$v:jar"
		cmp -s "$WORK/proj/target/dependency/$a-$v.jar" "$f" || missing="$missing $g:$a:$v:copied-jar"
		;;
	esac
done <"$WORK/files"
same "every POM and jar of the project came through cafs, checksums verified" "${missing:-none}" "none"

# --- (c) what Maven read was retained into app -------------------------------------------------
versions() { # NAMESPACE PACKAGE
	"$CAFS" list-package-versions --domain mvn-it --repository app --format maven --namespace "$1" --package "$2" 2>&1 |
		jq -r '[.versions[].version] | join(",")' 2>&1
}
same "junit $JUNIT retained into app" "$(versions junit junit)" "$JUNIT"
same "commons-lang3 $LANG3 retained into app" "$(versions org.apache.commons commons-lang3)" "$LANG3"
while read -r f; do
	read -r g a v <<<"$(gav_of "$f")"
	case "$g:$a" in junit:junit | org.apache.commons:commons-lang3) continue ;; esac
	grep -q '>cafs=' "$WORK/m2b/$(echo "$g" | tr . /)/$a/$v/_remote.repositories" 2>/dev/null || continue
	same "$g:$a:$v (a dependency or parent read by Maven) retained into app" "$(versions "$g" "$a")" "$v"
done <"$WORK/files"
same "the retained version is app's own now" "$(getfattr --absolute-names --only-values -n user.cafs.retained "$REPO/junit/junit/$JUNIT" 2>&1)" "yes"
same "retained origin is base" "$("$CAFS" describe-package-version --domain mvn-it --repository app --format maven --namespace junit --package junit --package-version "$JUNIT" | jq -r .packageVersion.origin.domainEntryPoint.repositoryName)" "base"
same "base still has it" "$("$CAFS" list-package-versions --domain mvn-it --repository base --format maven --namespace junit --package junit | jq -r '[.versions[].version] | join(",")')" "$JUNIT"

unmount_domain
t "unmounted" bash -c "! mountpoint -q '$MNT'"
finish
