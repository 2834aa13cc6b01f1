#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# mvn deploy:deploy-file, unmodified, into the mount: two releases and a SNAPSHOT twice, then
# resolved back through the mount with checksumPolicy=fail. Maven runs offline with Debian's
# plugins. Prints TAP.
. "$(dirname "$0")/lib.sh"

DEBREPO=/usr/share/maven-repo
DP=$(ls "$DEBREPO/org/apache/maven/plugins/maven-deploy-plugin" 2>/dev/null | grep -v debian | sort -V | tail -1)
GP=$(ls "$DEBREPO/org/apache/maven/plugins/maven-dependency-plugin" 2>/dev/null | grep -v debian | sort -V | tail -1)
if ! command -v mvn >/dev/null || [ -z "$DP" ] || [ -z "$GP" ]; then
	echo "1..0 # SKIP mvn or Debian's deploy/dependency plugins are not installed"
	exit 77
fi
"$CAFS" create-domain --domain mvd >/dev/null
"$CAFS" create-repository --domain mvd --repository team >/dev/null
mount_domain mvd
cat >"$WORK/settings.xml" <<EOF
<settings><localRepository>$WORK/m2</localRepository><interactiveMode>false</interactiveMode>
<profiles><profile><id>p</id>
<repositories><repository><id>central</id><url>file:///nonexistent</url><releases><enabled>false</enabled></releases><snapshots><enabled>false</enabled></snapshots></repository>
<repository><id>cafs</id><url>file://$MNT/team/maven</url><releases><enabled>true</enabled><checksumPolicy>fail</checksumPolicy><updatePolicy>always</updatePolicy></releases><snapshots><enabled>true</enabled><checksumPolicy>fail</checksumPolicy><updatePolicy>always</updatePolicy></snapshots></repository></repositories>
<pluginRepositories><pluginRepository><id>central</id><url>file:///nonexistent</url><releases><enabled>false</enabled></releases><snapshots><enabled>false</enabled></snapshots></pluginRepository>
<pluginRepository><id>debian</id><url>file://$DEBREPO</url><releases><enabled>true</enabled><checksumPolicy>ignore</checksumPolicy></releases></pluginRepository></pluginRepositories>
</profile></profiles><activeProfiles><activeProfile>p</activeProfile></activeProfiles></settings>
EOF
python3 -c "import zipfile,sys; z=zipfile.ZipFile(sys.argv[1],'w'); z.writestr('hello.txt','hello\n'); z.close()" "$WORK/app.jar"
python3 -c "import zipfile,sys; z=zipfile.ZipFile(sys.argv[1],'w'); z.writestr('hello.txt','snapshot %s\n' % sys.argv[2]); z.close()" "$WORK/snap1.jar" 1
python3 -c "import zipfile,sys; z=zipfile.ZipFile(sys.argv[1],'w'); z.writestr('hello.txt','snapshot %s\n' % sys.argv[2]); z.close()" "$WORK/snap2.jar" 2
unset MAVEN_OPTS
export JAVA_TOOL_OPTIONS=
# deploy refuses offline mode; every repository in settings.xml is a file:// one and central
# is disabled, so nothing leaves the machine
deploy() { # VERSION JAR
	mvn -B -s "$WORK/settings.xml" \
		"org.apache.maven.plugins:maven-deploy-plugin:$DP:deploy-file" -Dfile="$2" \
		-DgroupId=com.acme -DartifactId=app -Dversion="$1" -Dpackaging=jar -DgeneratePom=true \
		-Durl="file://$MNT/team/maven" -DrepositoryId=cafs >"$WORK/deploy.log" 2>&1 ||
		{ grep -E "ERROR" "$WORK/deploy.log" | head -10; return 1; }
}
t "mvn deploy 1.0" deploy 1.0 "$WORK/app.jar"
t "mvn deploy 1.1" deploy 1.1 "$WORK/app.jar"
same "1.0 is Published after its maven-metadata.xml" "$(getfattr --absolute-names --only-values -n user.cafs.status "$MNT/team/maven/com/acme/app/1.0" 2>&1)" "Published"
grep -q "<version>1.0</version>" "$MNT/team/maven/com/acme/app/maven-metadata.xml" && grep -q "<release>1.1</release>" "$MNT/team/maven/com/acme/app/maven-metadata.xml" && pass "served maven-metadata.xml lists both" || flunk "served maven-metadata.xml lists both" "$(cat "$MNT/team/maven/com/acme/app/maven-metadata.xml")"
t "deployed bytes are served" cmp "$WORK/app.jar" "$MNT/team/maven/com/acme/app/1.1/app-1.1.jar"
t "redeploy with the same bytes succeeds" deploy 1.0 "$WORK/app.jar"
t_fail "redeploy with other bytes is refused" "ERROR" deploy 1.0 "$WORK/snap1.jar"
t "SNAPSHOT build 1" deploy 2.0-SNAPSHOT "$WORK/snap1.jar"
sleep 1.1 # unique SNAPSHOT timestamps have one-second resolution
t "SNAPSHOT build 2" deploy 2.0-SNAPSHOT "$WORK/snap2.jar"
same "the previous build is kept as an Unlisted version" "$("$CAFS" list-package-versions --domain mvd --repository team --format maven --namespace com.acme --package app --status Unlisted | jq -r '.versions | length')" "1"
get() { # ARTIFACT
	mvn -B -o -Daether.offline.protocols=file -s "$WORK/settings.xml" \
		"org.apache.maven.plugins:maven-dependency-plugin:$GP:get" -Dartifact="$1" \
		-DremoteRepositories="cafs::default::file://$MNT/team/maven" >"$WORK/get.log" 2>&1 ||
		{ grep -E "ERROR" "$WORK/get.log" | head -10; return 1; }
}
rm -rf "$WORK/m2/com"
t "resolve 1.1 back with checksumPolicy=fail" get com.acme:app:1.1
t "resolved bytes are the deployed ones" cmp "$WORK/app.jar" "$WORK/m2/com/acme/app/1.1/app-1.1.jar"
t "resolve the SNAPSHOT back" get com.acme:app:2.0-SNAPSHOT
J=$(ls "$WORK"/m2/com/acme/app/2.0-SNAPSHOT/app-2.0-*.jar 2>/dev/null | grep -v SNAPSHOT.jar | head -1)
[ -z "$J" ] && J="$WORK/m2/com/acme/app/2.0-SNAPSHOT/app-2.0-SNAPSHOT.jar"
t "the SNAPSHOT resolves to the newest build" cmp "$WORK/snap2.jar" "$J"
# a deploy whose jar is refused (other bytes under a name the version has) stops Maven and
# leaves the version Unfinished: consumers do not see it
mkdir -p "$MNT/team/maven/com/acme/app/3.0" && cp "$WORK/snap1.jar" "$MNT/team/maven/com/acme/app/3.0/app-3.0.jar"
t_fail "a deploy whose jar is refused fails" "ERROR" deploy 3.0 "$WORK/app.jar"
same "that version stays Unfinished" "$(getfattr --absolute-names --only-values -n user.cafs.status "$MNT/team/maven/com/acme/app/3.0" 2>&1)" "Unfinished"
grep -q "<version>3.0</version>" "$MNT/team/maven/com/acme/app/maven-metadata.xml" && flunk "maven-metadata.xml leaves it out" "$(cat "$MNT/team/maven/com/acme/app/maven-metadata.xml")" || pass "maven-metadata.xml leaves it out"
rm -rf "$WORK/m2/com"
t_fail "and it cannot be resolved" "ERROR" get com.acme:app:3.0
unmount_domain
finish
