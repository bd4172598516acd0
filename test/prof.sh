cd /memgate/test/bats
source helpers.bash
t() { local s=$(date +%s%N); "$@" >/dev/null 2>&1; echo "$(( ($(date +%s%N)-s)/1000000 ))ms: $*"; }
t make_rootfs
t runc spec --rootless
mkdir -p /tmp/x && cd /tmp/x
t runc spec
t jq . config.json
t make_bundle a '{"memgate.io/commit-limit": "512m"}' 0 -- /bin/sleep 600
t make_bundle a '{"memgate.io/commit-limit": "512m"}' 0 -- /bin/sleep 600
tr() { cd $BUNDLES/$1 && runc run -d $1 </dev/null; }
t tr a
t tr a
make_bundle b '{"memgate.io/commit-limit": "256Mi"}' 0 -- /bin/sleep 600
make_bundle c '{}' 0 -- /bin/sleep 600
t tr c
t runc delete -f c
t tr c
t runc delete -f c
t tr b
t memgate status --json
t status_of b
t map_dump policies
t bpftool prog show
t runc list -q
t runc delete -f b
t assert_no_memgate
t memgate validate memgate.io/commit-limit=512m
t $HOOK prestart </dev/null
t /bin/true
cat > /tmp/e.bats <<'EOB'
@test "e1" { true; }
@test "e2" { true; }
@test "e3" { true; }
@test "e4" { true; }
EOB
t bats /tmp/e.bats
bats -T /tmp/e.bats
