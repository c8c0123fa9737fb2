#!/usr/bin/env bash
# ctest remote_workers_netns: the server, two workers and a client in four network namespaces
# joined by veth pairs to a bridge (only addresses inside those namespaces are used):
#   1. jobs submitted from the client namespace spread over both remote workers;
#   2. cutting one worker's link mid-job (ip link set down) returns its job to the queue when
#      the lease expires, and the other worker finishes it;
#   3. no job is lost: every submitted job ends SUCCEEDED exactly once in the listing.
# Jobs are PP-OCRv4 float16 conversions (~1.5 s each) with distinct seeds (no cache hits).
# Needs root (CAP_NET_ADMIN) and iproute2; exits 77 (skipped) with the reason otherwise.
# Usage: netns_test.sh BIN_DIR MODEL OUTDIR
set -uo pipefail
bin=$1 model=$2 out=$3
if [ "$(id -u)" != 0 ] || ! command -v ip >/dev/null; then
  echo "SKIP: needs root and iproute2 for network namespaces"; exit 77
fi
[ -f "$model" ] || { echo "SKIP: $model is missing (asset kit)"; exit 77; }
tag=shr$$
if ! ip netns add "$tag-probe" 2>/dev/null; then
  echo "SKIP: this machine does not allow network namespaces"; exit 77
fi
ip netns del "$tag-probe"
rm -rf "$out" && mkdir -p "$out"
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill -9 "$pid" 2>/dev/null; done
  wait 2>/dev/null
  for ns in srv w1 w2 cli; do ip netns del "$tag-$ns" 2>/dev/null; done
}
trap cleanup EXIT
fail() { echo "FAIL: $*"; for f in "$out"/*.log; do echo "--- $f"; tail -5 "$f"; done; exit 1; }

# The server namespace holds a bridge; every other namespace gets a veth pair onto it.
for ns in srv w1 w2 cli; do ip netns add "$tag-$ns"; ip -n "$tag-$ns" link set lo up; done
ip -n "$tag-srv" link add br0 type bridge
ip -n "$tag-srv" addr add 10.77.0.1/24 dev br0
ip -n "$tag-srv" link set br0 up
declare -A address=([w1]=10.77.0.11 [w2]=10.77.0.12 [cli]=10.77.0.21)
for ns in w1 w2 cli; do
  ip link add "$tag-$ns" type veth peer name "$tag-$ns-b"
  ip link set "$tag-$ns" netns "$tag-$ns"
  ip link set "$tag-$ns-b" netns "$tag-srv"
  ip -n "$tag-srv" link set "$tag-$ns-b" master br0 up
  ip -n "$tag-$ns" addr add "${address[$ns]}/24" dev "$tag-$ns"
  ip -n "$tag-$ns" link set "$tag-$ns" up
done
server=10.77.0.1:7070
in_ns() { local ns=$1; shift; ip netns exec "$tag-$ns" "$@"; }

echo "== shrinkd in $tag-srv on $server (leases 3 s)"
in_ns srv "$bin/shrinkd" --listen "$server" --db "$out/shrink.db" --workers 0 \
  --max-lease-seconds 3 --port-file "$out/port" >"$out/server.log" 2>&1 &
pids+=($!)
for _ in $(seq 100); do [ -s "$out/port" ] && break; sleep 0.1; done
[ -s "$out/port" ] || fail "the server did not start"
export SHRINK_SERVER=$server SHRINK_TOKEN_FILE=$out/shrink.db.admin-token
shrink() { in_ns cli "$bin/shrink" "$@"; }
worker_token=$(shrink admin issue-token --tenant default --kind worker --label netns) ||
  fail "cannot issue a worker token from $tag-cli"
for w in w1 w2; do
  SHRINK_WORKER_TOKEN=$worker_token in_ns "$w" "$bin/shrink-worker" --server "$server" \
    --id "$w" --cache "$out/cache-$w" --threads 1 >"$out/worker-$w.log" 2>&1 &
  pids+=($!)
done

submit() {  # submit SEED: prints the job id
  echo "{\"preset\": \"float16\", \"seed\": $1}" > "$out/recipe$1.json"
  shrink submit "$model" --recipe "$out/recipe$1.json" 2>>"$out/cli.log" || fail "submit $1"
}
field() { sed -n "s/.*\"$2\": \"\\{0,1\\}\\([^\",}]*\\).*/\\1/p" <<<"$1"; }
wait_final() {  # wait_final ID...
  for id in "$@"; do
    for _ in $(seq 600); do
      state=$(field "$(shrink status "$id" --json 2>/dev/null)" state)
      case $state in SUCCEEDED|FAILED|CANCELLED) break ;; esac
      sleep 0.1
    done
  done
}

echo "== phase 1: 4 jobs from $tag-cli spread over both workers"
first=()
for seed in 1 2 3 4; do first+=("$(submit $seed)"); done
wait_final "${first[@]}"
declare -A ran_on=()
for id in "${first[@]}"; do
  status=$(shrink status "$id" --json)
  [ "$(field "$status" state)" = SUCCEEDED ] || fail "job $id: $status"
  ran_on[$(field "$status" worker_id)]=1
done
[ -n "${ran_on[w1]:-}" ] && [ -n "${ran_on[w2]:-}" ] ||
  fail "phase 1 jobs finished only on: ${!ran_on[*]}"
echo "phase 1 jobs finished on: ${!ran_on[*]}"

echo "== phase 2: cut w1's link while it runs a job"
second=()
for seed in 5 6 7 8; do second+=("$(submit $seed)"); done
victim=""
for _ in $(seq 300); do
  for id in "${second[@]}"; do
    status=$(shrink status "$id" --json 2>/dev/null)
    if [ "$(field "$status" state)" = RUNNING ] && [ "$(field "$status" worker_id)" = w1 ]; then
      victim=$id; break 2
    fi
  done
  sleep 0.1
done
[ -n "$victim" ] || fail "w1 never ran a phase 2 job"
ip -n "$tag-w1" link set "$tag-w1" down
echo "w1 cut off while running $victim"
wait_final "${second[@]}"
for id in "${second[@]}"; do
  status=$(shrink status "$id" --json)
  [ "$(field "$status" state)" = SUCCEEDED ] || fail "job $id: $status"
  if [ "$id" = "$victim" ]; then
    [ "$(field "$status" worker_id)" = w2 ] || fail "the cut job finished on $(field "$status" worker_id)"
    [ "$(field "$status" attempts)" = 2 ] || fail "the cut job took $(field "$status" attempts) attempts"
  fi
done
listed=$(shrink jobs 2>/dev/null | grep -c '^j')
[ "$listed" = 8 ] || fail "the server lists $listed jobs, expected 8"
echo "the cut job $victim finished on w2 after 2 attempts; 8 of 8 jobs SUCCEEDED, none listed twice"
echo "PASS"
