#!/usr/bin/env bash
# Reproduces the README's performance figures on this machine: the signing
# ceiling, the token endpoint at concurrency 16 for each algorithm, RS256
# latency at a fixed arrival rate of half its measured rate, the same with
# 100,000 clients in the store, the BoringCrypto build, ES256 and EdDSA
# against a bare handler's floor, and resident memory and start time at 10,
# 100,000 and 1,000,000 clients (set SIZES="10 100000" to skip the million,
# which takes some minutes to seed).
# Everything runs on loopback; the load generator shares the cores.
#   bash scripts/benchmark.sh [seconds per run, default 15]
set -euo pipefail
cd "$(dirname "$0")/.."
D=${1:-15}
work=$(mktemp -d)
trap 'kill $(cat "$work"/*.pid 2>/dev/null) 2>/dev/null || true; rm -rf "$work"' EXIT

go build -o "$work/gatehouse" ./cmd/gatehouse
go build -o "$work/barehandler" ./scripts/barehandler
go build -o "$work/fixedhandler" ./scripts/fixedhandler
GOEXPERIMENT=boringcrypto go build -o "$work/gatehouse-boring" ./cmd/gatehouse
GH=$work/gatehouse

# start BIN PORT: a server with one tenant, an API per algorithm and a
# client granted all three; prints the client's id and secret.
start() {
  local bin=$1 port=$2 dir=$work/data-$2
  GATEHOUSE_LOG_LEVEL=warn "$bin" serve --addr 127.0.0.1:"$port" --data-dir "$dir" > "$work/serve-$port.log" 2>&1 &
  echo $! > "$work/$port.pid"
  for _ in $(seq 100); do curl -sf "http://127.0.0.1:$port/readyz" > /dev/null && break; sleep 0.1; done
  export GATEHOUSE_URL=http://127.0.0.1:$port GATEHOUSE_CREDENTIALS=$dir/admin-client.json
  "$GH" tenant create acme > /dev/null
  for alg in RS256 ES256 EdDSA; do
    "$GH" api create --audience "https://$alg.example.io" --alg "$alg" --scope read > /dev/null
  done
  "$GH" client create --tenant acme --name bench -o json \
    --grant 'https://RS256.example.io=read' --grant 'https://ES256.example.io=read' --grant 'https://EdDSA.example.io=read' > "$work/client-$port.json"
}
id() { sed -n 's/.*"client_id": "\([^"]*\)".*/\1/p' "$work/client-$1.json"; }
secret() { sed -n 's/.*"client_secret": "\([^"]*\)".*/\1/p' "$work/client-$1.json"; }
token() { # PORT ALG [extra flags]
  local port=$1 alg=$2; shift 2
  "$GH" bench token --url "http://127.0.0.1:$port" --client-id "$(id "$port")" --client-secret "$(secret "$port")" \
    --audience "https://$alg.example.io" --concurrency 16 --duration "${D}s" "$@" | sed -n '1,3p;5p'
}

echo "## machine: $(nproc) CPUs, $(go version | cut -d' ' -f3), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2)"
echo "## signing ceiling (gatehouse bench sign)"
for alg in RS256 ES256 EdDSA; do "$GH" bench sign --alg "$alg" --duration "${D}s" | sed -n 1,3p; done

echo "## token endpoint, 10 clients, concurrency 16"
start "$GH" 18301
for alg in RS256 ES256 EdDSA; do token 18301 "$alg"; done
rate=$("$GH" bench token --url http://127.0.0.1:18301 --client-id "$(id 18301)" --client-secret "$(secret 18301)" \
  --audience https://RS256.example.io --concurrency 16 --duration 5s -o json | sed -n 's/.*"tokens_per_second": *\([0-9]*\).*/\1/p' | head -1)
echo "## RS256 open loop at half the measured rate ($((rate / 2))/s)"
token 18301 RS256 --rate $((rate / 2))

echo "## RS256 against its ceiling and against a bare handler, three back-to-back rounds"
"$work/barehandler" 127.0.0.1:18400 & echo $! > "$work/18400.pid"
sleep 0.5
for round in 1 2 3; do
  echo "round $round"
  "$GH" bench sign --alg RS256 --duration "${D}s" | sed -n 2p
  "$GH" bench token --url http://127.0.0.1:18400 --client-id c1 --client-secret secret --audience https://a \
    --concurrency 16 --duration "${D}s" | sed -n 2p | sed 's/^/  bare handler: /'
  token 18301 RS256 | sed -n 2p | sed 's/^/  gatehouse:    /'
done
kill "$(cat "$work/18400.pid")"

echo "## 100,000 clients in the store"
"$GH" bench seed --clients 100000 --tenant acme --grant 'https://EdDSA.example.io=read' --grant 'https://RS256.example.io=read' --concurrency 8
for alg in RS256 EdDSA; do token 18301 "$alg"; done
kill "$(cat "$work/18301.pid")"

echo "## BoringCrypto build (GOEXPERIMENT=boringcrypto)"
"$work/gatehouse-boring" bench sign --alg RS256 --duration "${D}s" | sed -n 1,3p
start "$work/gatehouse-boring" 18302
token 18302 RS256

echo "## ES256 and EdDSA against the floor: a bare handler answering a fixed token-sized body (scripts/fixedhandler),"
echo "## and the bare handler that checks a secret and signs with the same algorithm (scripts/barehandler ADDR ALG)"
start "$GH" 18303
"$work/fixedhandler" 127.0.0.1:18401 & echo $! > "$work/18401.pid"
"$work/barehandler" 127.0.0.1:18402 ES256 & echo $! > "$work/18402.pid"
"$work/barehandler" 127.0.0.1:18403 EdDSA & echo $! > "$work/18403.pid"
sleep 0.5
bare() { # PORT: the load generator against a measuring-stick server
  "$GH" bench token --url "http://127.0.0.1:$1" --client-id c1 --client-secret secret --audience https://a \
    --concurrency 16 --duration "${D}s" | sed -n 2p
}
for round in 1 2 3; do
  echo "round $round"
  bare 18401 | sed 's/^/  fixed body:     /'
  bare 18402 | sed 's/^/  bare ES256:     /'
  token 18303 ES256 | sed -n 2p | sed 's/^/  gatehouse ES256:/'
  bare 18403 | sed 's/^/  bare EdDSA:     /'
  token 18303 EdDSA | sed -n 2p | sed 's/^/  gatehouse EdDSA:/'
done
kill "$(cat "$work/18401.pid")" "$(cat "$work/18402.pid")" "$(cat "$work/18403.pid")" "$(cat "$work/18303.pid")"

echo "## RS256 by client authentication, beside bench sign and the bare handler (two rounds)"
start "$GH" 18304
"$work/barehandler" 127.0.0.1:18404 & echo $! > "$work/18404.pid"
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$work/ec.key" 2> /dev/null
openssl pkey -in "$work/ec.key" -pubout -out "$work/ec.pub"
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$work/rsa.key" 2> /dev/null
openssl pkey -in "$work/rsa.key" -pubout -out "$work/rsa.pub"
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$work/issuer.key" 2> /dev/null
for c in ec rsa; do
  "$GH" client create --tenant acme --name "$c" -o json --grant 'https://RS256.example.io=read' \
    --auth private_key_jwt --jwks-file "$work/$c.pub" > "$work/client-$c.json"
done
"$GH" bench seed --federated --tenant acme --key "$work/issuer.key" --client-id "$(id 18304)" > /dev/null
keyed() { # CLIENT KEY [flags]: private_key_jwt requests
  local c=$1 key=$2; shift 2
  "$GH" bench token --url http://127.0.0.1:18304 --client-id "$(id "$c")" --auth private_key_jwt --key "$work/$key" \
    --audience https://RS256.example.io --concurrency 16 --duration "${D}s" "$@" | sed -n 2p
}
for round in 1 2; do
  echo "round $round"
  "$GH" bench sign --alg RS256 --duration "${D}s" | sed -n 2p | sed 's/^/  bench sign:           /'
  bare 18404 | sed 's/^/  bare handler:         /'
  token 18304 RS256 | sed -n 2p | sed 's/^/  secret:               /'
  token 18304 RS256 --dpop | sed -n 2p | sed 's/^/  secret + DPoP:        /'
  keyed ec ec.key | sed 's/^/  ES256 assertion:      /'
  keyed ec ec.key --dpop | sed 's/^/  ES256 assertion+DPoP: /'
  keyed rsa rsa.key | sed 's/^/  RS256 assertion:      /'
  "$GH" bench token --url http://127.0.0.1:18304 --client-id "$(id 18304)" --federated ES256 --key "$work/issuer.key" \
    --audience https://RS256.example.io --concurrency 16 --duration "${D}s" | sed -n 2p | sed 's/^/  federated (ES256):    /'
done
kill "$(cat "$work/18404.pid")" "$(cat "$work/18304.pid")"

# rss PID: resident memory in MiB.
rss() { awk '/VmRSS/ {printf "%d", $2 / 1024}' "/proc/$1/status"; }
echo "## resident memory and start time by number of clients (SQLite, logs at warn)"
port=18310 sizes=""
for n in ${SIZES:-10 100000 1000000}; do
  port=$((port + 1))
  start "$GH" "$port"
  kill "$(cat "$work/$port.pid")"; sleep 1
  if [ "$n" -gt 10 ]; then
    "$GH" bench seed --clients "$n" --tenant acme --grant 'https://ES256.example.io=read' --data-dir "$work/data-$port" 2> /dev/null
  fi
  t0=$(date +%s%N)
  GATEHOUSE_LOG_LEVEL=warn "$GH" serve --addr 127.0.0.1:"$port" --data-dir "$work/data-$port" > "$work/serve-$port.log" 2>&1 &
  echo $! > "$work/$port.pid"; pid=$(cat "$work/$port.pid")
  until curl -sf "http://127.0.0.1:$port/readyz" > /dev/null; do sleep 0.05; done
  ready=$(( ($(date +%s%N) - t0) / 1000000 ))
  cpu=$(awk '{printf "%.1f", ($14 + $15) / 100}' "/proc/$pid/stat")
  sleep 5; idle=$(rss "$pid")
  token "$port" ES256 > "$work/load-$port.txt" & load=$!
  peak=0; while kill -0 $load 2> /dev/null; do r=$(rss "$pid"); [ "$r" -gt "$peak" ] && peak=$r; sleep 0.5; done
  echo "$n clients: ready in ${ready} ms, ${cpu} s CPU by then, ${idle} MiB resident idle, ${peak} MiB under ES256 load; $(sed -n 2p "$work/load-$port.txt")"
  sizes="${sizes:+$sizes }$n:$port"
done
# The largest catalog against the 10-client node, interleaved, ES256.
first=${sizes%% *}; last=${sizes##* }
echo "## token rate, ${last%%:*} clients against ${first%%:*}, interleaved (ES256)"
for round in 1 2 3; do
  echo "round $round: ${first%%:*} clients $(token "${first##*:}" ES256 | sed -n 2p | awk '{print $NF}'), ${last%%:*} clients $(token "${last##*:}" ES256 | sed -n 2p | awk '{print $NF}')"
done
for s in $sizes; do kill "$(cat "$work/${s##*:}.pid")"; done
