#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Resource policies for local users (spec §8): a shared (allow_other) mount checks every
# request for its caller: nothing without a grant (EACCES, audited), ReadFromRepository to
# read a repository, PublishPackageVersion (via a group) to publish, an explicit Deny beating
# an Allow, mode bits following the caller's rights; policy revisions; the anti-lockout rule;
# and the same checks for the invoking user of the command line. Needs root (it creates two
# users and a group for the test and removes them). Prints TAP.
. "$(dirname "$0")/lib.sh"

if [ "$(id -u)" -ne 0 ] || ! command -v useradd >/dev/null || ! command -v runuser >/dev/null; then
	echo "1..0 # SKIP needs root, useradd and runuser"
	exit 77
fi
U1=cafs-it-alice U2=cafs-it-bob G=cafs-it-builders
cleanup_users() {
	userdel "$U1" 2>/dev/null
	userdel "$U2" 2>/dev/null
	groupdel "$G" 2>/dev/null
	return 0
}
cleanup_users
groupadd "$G" && useradd -M -N -g nogroup -s /bin/sh "$U1" && useradd -M -N -g nogroup -G "$G" -s /bin/sh "$U2" ||
	{ echo "Bail out! cannot create test users"; cleanup_users; exit 1; }
trap 'cleanup_users; cleanup' EXIT
# the users must reach the mount point and the binary (the build may be in a private folder)
chmod 755 "$WORK"
install -m 755 "$CAFS" "$WORK/cafs"
UCAFS=$WORK/cafs
as() { local u=$1; shift; runuser -u "$u" -- "$@"; }

python3 - "$WORK" <<'PY'
import sys, zipfile
w = sys.argv[1]
for n, v in (("perm-a", "1.0"), ("perm-b", "1.0"), ("perm-c", "1.0")):
    with zipfile.ZipFile(f"{w}/{n.replace('-', '_')}-{v}-py3-none-any.whl", "w") as z:
        z.writestr(f"{n.replace('-', '_')}/__init__.py", "")
        z.writestr(f"{n.replace('-', '_')}-{v}.dist-info/METADATA", f"Metadata-Version: 2.1\nName: {n}\nVersion: {v}\n")
PY
chmod 644 "$WORK"/*.whl
C() { "$CAFS" "$@"; }
D=(--domain perm)
C create-domain "${D[@]}" >/dev/null
C create-repository "${D[@]}" --repository team >/dev/null
C create-repository "${D[@]}" --repository other >/dev/null
C publish "${D[@]}" --repository team "$WORK/perm_a-1.0-py3-none-any.whl" >/dev/null
C publish "${D[@]}" --repository other "$WORK/perm_a-1.0-py3-none-any.whl" >/dev/null
"$CAFS" mount --domain perm --foreground --allow-other "$MNT" >>"$WORK/daemon.log" 2>&1 &
DAEMON_PID=$!
for _ in $(seq 1 100); do mountpoint -q "$MNT" && break; sleep 0.1; done
mountpoint -q "$MNT" || { echo "Bail out! mount"; exit 1; }
M=$MNT
F=team/pypi/perm-a/1.0/perm_a-1.0-py3-none-any.whl

# --- nothing without a grant ----------------------------------------------------------------------
t "the owner reads" cmp "$M/$F" "$WORK/perm_a-1.0-py3-none-any.whl"
t_fail "$U1 cannot list the domain" "Permission denied" as "$U1" ls "$M"
t_fail "$U1 cannot read team" "Permission denied" as "$U1" cat "$M/$F"
same "the refusal is audited" "$(C audit "${D[@]}" --outcome refused | jq '[.events[] | select(.action == "ReadFromRepository")] | length > 0')" "true"

# --- grants ---------------------------------------------------------------------------------------------
ARN_PKG=$(C describe-domain "${D[@]}" | jq -r .domain.arn | sed 's|:domain/|:package/|')/team/*
POLICY=$(jq -cn --arg u "user:$U1" --arg g "group:$G" --arg bob "user:$U2" --arg pkg "$ARN_PKG" '{
  Version: "2012-10-17",
  Statement: [
    {Sid: "read", Effect: "Allow", Principal: {Unix: [$u, $g]}, Action: "codeartifact:ReadFromRepository", Resource: "*"},
    {Sid: "publish", Effect: "Allow", Principal: {Unix: $g}, Action: ["codeartifact:PublishPackageVersion"], Resource: $pkg}
  ]}')
t "put-repository-permissions-policy" C put-repository-permissions-policy "${D[@]}" --repository team --policy-document "$POLICY"
REV=$(C get-repository-permissions-policy "${D[@]}" --repository team | jq -r .policy.revision)
[ -n "$REV" ] && pass "get shows its revision" || flunk "get shows its revision"
t "$U1 reads team now" as "$U1" cmp "$M/$F" "$WORK/perm_a-1.0-py3-none-any.whl"
t_fail "$U1 still cannot read other" "Permission denied" as "$U1" cat "$M/other/pypi/perm-a/1.0/perm_a-1.0-py3-none-any.whl"
t_fail "$U1 may not publish into team (EACCES at close)" "Permission denied" as "$U1" cp "$WORK/perm_b-1.0-py3-none-any.whl" "$M/team/pypi/"
same "nothing was published" "$(C list-packages "${D[@]}" --repository team | jq '[.packages[].package] | index("perm-b")')" "null"
t "$U2 publishes through the group grant" as "$U2" cp "$WORK/perm_b-1.0-py3-none-any.whl" "$M/team/pypi/"
same "it is there" "$(C list-package-versions "${D[@]}" --repository team --format pypi --package perm-b | jq -r '.versions[0].version')" "1.0"
same "mode bits: no write bits for a reader" "$(as "$U1" stat -c %A "$M/team/pypi")" "dr-xr-xr-x"
same "mode bits: write bits for a publisher" "$(as "$U2" stat -c %A "$M/team/pypi" | cut -c3)" "w"

# --- an explicit Deny wins ------------------------------------------------------------------------------
POLICY2=$(echo "$POLICY" | jq -c --arg bob "uid:$(id -u "$U2")" '.Statement += [{Sid: "no-bob", Effect: "Deny", Principal: {Unix: $bob}, Action: "codeartifact:*"}]')
t_fail "put with a stale revision: ConflictException" "ConflictException" C put-repository-permissions-policy "${D[@]}" --repository team --policy-document "$POLICY2" --policy-revision stale
t "put with the current revision" C put-repository-permissions-policy "${D[@]}" --repository team --policy-document "$POLICY2" --policy-revision "$REV"
t_fail "$U2 is denied despite the group's Allow" "Permission denied" as "$U2" cat "$M/$F"
t "$U1 still reads" as "$U1" cmp "$M/$F" "$WORK/perm_a-1.0-py3-none-any.whl"
t_fail "a document with an unknown action is refused" "ValidationException" C put-repository-permissions-policy "${D[@]}" --repository team --policy-document '{"Statement":{"Effect":"Allow","Principal":"*","Action":"codeartifact:Nope"}}'
t_fail "a document with a bad principal is refused" "ValidationException" C put-repository-permissions-policy "${D[@]}" --repository team --policy-document '{"Statement":{"Effect":"Allow","Principal":{"Unix":"nobody"},"Action":"*"}}'

# --- the command line, for the invoking user ------------------------------------------------------------
# the users need the store's files to run cafs at all; the policy decides the rest
chmod -R a+rwX "$CAFS_STORE"
t_fail "$U1: list-packages of other is AccessDenied" "AccessDeniedException" as "$U1" "$UCAFS" list-packages "${D[@]}" --repository other
t_fail "$U1: cafs' own administration is the owner's" "AccessDeniedException" as "$U1" "$UCAFS" audit "${D[@]}"
t "domain policy: $U1 may ListPackages everywhere" C put-domain-permissions-policy "${D[@]}" --policy-document "$(jq -cn --arg u "user:$U1" '{Statement: [{Effect: "Allow", Principal: {Unix: $u}, Action: ["codeartifact:ListPackages", "codeartifact:Get*PermissionsPolicy"]}]}')"
t "$U1: list-packages of other now" as "$U1" "$UCAFS" list-packages "${D[@]}" --repository other
# anti-lockout: a policy never grants the right to change itself
t "team's policy grants $U1 PutRepositoryPermissionsPolicy" C put-repository-permissions-policy "${D[@]}" --repository team --policy-document "$(echo "$POLICY2" | jq -c --arg u "user:$U1" '.Statement += [{Effect: "Allow", Principal: {Unix: $u}, Action: "codeartifact:PutRepositoryPermissionsPolicy"}]')"
t_fail "... which does not count for changing it" "AccessDeniedException" as "$U1" "$UCAFS" put-repository-permissions-policy "${D[@]}" --repository team --policy-document "$POLICY"
t "the domain's policy can grant it" C put-domain-permissions-policy "${D[@]}" --policy-document "$(jq -cn --arg u "user:$U1" '{Statement: [{Effect: "Allow", Principal: {Unix: $u}, Action: ["codeartifact:ListPackages", "codeartifact:PutRepositoryPermissionsPolicy"]}]}')"
t "$U1 changes team's policy" as "$U1" "$UCAFS" put-repository-permissions-policy "${D[@]}" --repository team --policy-document "$POLICY"
t_fail "$U1 cannot change the domain's policy" "AccessDeniedException" as "$U1" "$UCAFS" delete-domain-permissions-policy "${D[@]}"
t "the owner deletes it" C delete-domain-permissions-policy "${D[@]}"
t_fail "get of a deleted policy: ResourceNotFound" "ResourceNotFoundException" C get-domain-permissions-policy "${D[@]}"
unmount_domain
finish
