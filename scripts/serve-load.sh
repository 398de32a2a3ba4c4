#!/usr/bin/env bash
# Load comparison for `chipgauge serve` (docs/api.md#performance), in one run over loopback:
#   1. POST /v1/classify of one bundled part with wrk at 64 connections, beside nginx serving a
#      static JSON file of the same size as that response: requests/s, p99 latency and the ratio
#      (targets: >= 0.3 x nginx's requests/s, p99 < 20 ms);
#   2. the batch form, every bundled part in one request, one connection: latency (target < 5 ms);
#   3. the server's RSS after warm-up and after 1,000,000 more requests (memory stays flat).
#
#   scripts/serve-load.sh [BUILD_DIR]          (default: build/)
# Environment: SERVE_LOAD_DURATION (default 10s), SERVE_LOAD_CONNECTIONS (64), SERVE_LOAD_THREADS
# (wrk threads, 2), SERVE_LOAD_MILLION (requests for the RSS check, 1000000; 0 skips it).
# Needs wrk, nginx, curl and python3 (scripts/install-deps.sh --test). nginx runs as this user's
# private instance on a free port, with its config, pid file and logs in a temporary directory, and
# is stopped by its pid.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$root/build}
bin=$build/apps/chipgauge
duration=${SERVE_LOAD_DURATION:-10s}
connections=${SERVE_LOAD_CONNECTIONS:-64}
wrk_threads=${SERVE_LOAD_THREADS:-2}
million=${SERVE_LOAD_MILLION:-1000000}
part=nvidia-h100-sxm5-80gb

for tool in wrk nginx curl python3; do
  command -v "$tool" >/dev/null 2>&1 || { echo "serve-load: $tool not found (scripts/install-deps.sh --test)" >&2; exit 2; }
done
[[ -x $bin ]] || { echo "serve-load: $bin not found: build first" >&2; exit 2; }

tmp=$(mktemp -d)
chmod 755 "$tmp"
server_pid=
cleanup() {
  [[ -n $server_pid ]] && kill "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null || true
  [[ -f $tmp/nginx.pid ]] && kill "$(cat "$tmp/nginx.pid")" 2>/dev/null || true
  rm -rf "$tmp"
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# chipgauge serve: a worker per wrk connection (connections are served by one worker each).
"$bin" serve --listen 127.0.0.1:0 --threads $((connections + 8)) --queue-limit 64 --keep-alive-max 10000 \
  --access-log /dev/null >"$tmp/serve.out" 2>"$tmp/serve.err" &
server_pid=$!
for _ in $(seq 100); do grep -q listening "$tmp/serve.out" 2>/dev/null && break; sleep 0.1; done
api=$(sed -n 's/^listening on //p' "$tmp/serve.out")
[[ -n $api ]] || { cat "$tmp/serve.err" >&2; exit 1; }

body="{\"part\":\"$part\"}"
curl -sf -X POST -H 'Content-Type: application/json' -d "$body" "$api/v1/classify" >"$tmp/response.json"
size=$(stat -c %s "$tmp/response.json")

# nginx: the same bytes as a static file.
mkdir -p "$tmp/www"
cp "$tmp/response.json" "$tmp/www/classify.json"
chmod -R a+rX "$tmp/www"
nginx_port=$(free_port)
cat >"$tmp/nginx.conf" <<CONF
worker_processes auto;
pid $tmp/nginx.pid;
error_log $tmp/nginx-error.log;
events { worker_connections 1024; }
http {
  access_log off;
  keepalive_requests 10000;
  client_body_temp_path $tmp/body;
  proxy_temp_path $tmp/proxy;
  fastcgi_temp_path $tmp/fastcgi;
  uwsgi_temp_path $tmp/uwsgi;
  scgi_temp_path $tmp/scgi;
  server {
    listen 127.0.0.1:$nginx_port;
    location / { root $tmp/www; default_type application/json; }
  }
}
CONF
nginx -p "$tmp" -c "$tmp/nginx.conf"
for _ in $(seq 50); do [[ -s $tmp/nginx.pid ]] && break; sleep 0.1; done
curl -sf "http://127.0.0.1:$nginx_port/classify.json" -o "$tmp/static.json"
cmp -s "$tmp/static.json" "$tmp/response.json" || { echo "serve-load: nginx does not serve the same bytes" >&2; exit 1; }

cat >"$tmp/post.lua" <<LUA
wrk.method = "POST"
wrk.body = '$body'
wrk.headers["Content-Type"] = "application/json"
LUA

# wrk's summary: requests/s and the 99th percentile latency (in ms).
rps() { sed -n 's/^Requests\/sec: *//p' "$1"; }
p99_ms() {
  awk '$1 == "99%" { v = $2; if (v ~ /us$/) { sub(/us$/, "", v); v /= 1000 } else if (v ~ /ms$/) { sub(/ms$/, "", v) } else if (v ~ /s$/) { sub(/s$/, "", v); v *= 1000 } print v }' "$1"
}
errors() { grep -E 'Non-2xx|Socket errors' "$1" || true; }

echo "== one classify per request, $connections connections, $duration each, response $size bytes"
wrk_api="wrk -t$wrk_threads -c$connections -d$duration --latency -s $tmp/post.lua $api/v1/classify"
wrk_nginx="wrk -t$wrk_threads -c$connections -d$duration --latency http://127.0.0.1:$nginx_port/classify.json"
echo "\$ $wrk_api"
$wrk_api >"$tmp/wrk-api.txt"
echo "\$ $wrk_nginx"
$wrk_nginx >"$tmp/wrk-nginx.txt"
api_rps=$(rps "$tmp/wrk-api.txt"); api_p99=$(p99_ms "$tmp/wrk-api.txt")
nginx_rps=$(rps "$tmp/wrk-nginx.txt"); nginx_p99=$(p99_ms "$tmp/wrk-nginx.txt")
errors "$tmp/wrk-api.txt"
printf 'chipgauge serve  POST /v1/classify : %10.0f requests/s, p99 %7.2f ms\n' "$api_rps" "$api_p99"
printf 'nginx            GET static (%s B): %10.0f requests/s, p99 %7.2f ms\n' "$size" "$nginx_rps" "$nginx_p99"
python3 -c "print('ratio chipgauge/nginx: %.2f (target >= 0.30); p99 target < 20 ms' % ($api_rps / $nginx_rps))"

echo "== batch: every bundled part in one request, 1 connection"
ids=$(curl -sf "$api/v1/parts" | python3 -c 'import json,sys; print(json.dumps([{"part": p["id"]} for p in json.load(sys.stdin)]))')
count=$(python3 -c "import json,sys; print(len(json.loads(sys.argv[1])))" "$ids")
printf '%s' "$ids" >"$tmp/batch.json"
cat >"$tmp/batch.lua" <<LUA
local f = io.open("$tmp/batch.json", "rb"); local b = f:read("*all"); f:close()
wrk.method = "POST"
wrk.body = b
wrk.headers["Content-Type"] = "application/json"
LUA
wrk_batch="wrk -t1 -c1 -d$duration --latency -s $tmp/batch.lua $api/v1/classify"
echo "\$ $wrk_batch"
$wrk_batch >"$tmp/wrk-batch.txt"
errors "$tmp/wrk-batch.txt"
p50=$(awk '$1 == "50%" { print $2 }' "$tmp/wrk-batch.txt")
printf 'batch of %s parts: p50 %s, p99 %.2f ms, %s requests/s (target < 5 ms)\n' "$count" "$p50" "$(p99_ms "$tmp/wrk-batch.txt")" "$(rps "$tmp/wrk-batch.txt")"

if [[ $million -gt 0 ]]; then
  echo "== RSS over $million requests of POST /v1/classify"
  rss() { awk '/^VmRSS/ { print $2 }' "/proc/$server_pid/status"; }
  before=$(rss)
  done_requests=0
  while [[ $done_requests -lt $million ]]; do
    wrk -t"$wrk_threads" -c"$connections" -d10s -s "$tmp/post.lua" "$api/v1/classify" >"$tmp/wrk-rss.txt"
    n=$(awk '/requests in/ { print $1 }' "$tmp/wrk-rss.txt")
    done_requests=$((done_requests + n))
  done
  after=$(rss)
  echo "RSS after warm-up: ${before} kB; after $done_requests more requests: ${after} kB"
fi
