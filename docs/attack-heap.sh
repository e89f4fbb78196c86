#!/usr/bin/env bash
# Heap of a -Xmx512m instance while 12 observers send 4 MiB AG-UI bodies and 50 slow SSE readers of one token follow
# a room with 40 large events (docs/reliability.md). Needs curl, jq and the JDK's jstat; runs ./substrate dev on free
# ports in a scratch directory, and removes it.
set -euo pipefail
cd "$(dirname "$0")/.."
DATA=$(mktemp -d)
SUBSTRATE_JAVA_OPTS="-Xmx512m" ./substrate dev --data-dir "$DATA/d" --kafka-port 0 --http-port 0 > "$DATA/out" 2>&1 &
DEV=$!
trap 'kill $DEV 2>/dev/null; wait $DEV 2>/dev/null; rm -rf "$DATA"' EXIT
until grep -q "Press Ctrl-C" "$DATA/out"; do sleep 1; done
API=$(sed -n 's/^  HTTP *\(http[^ ]*\).*/\1/p' "$DATA/out")
TOKEN=$(cat "$DATA/d/admin.token")
PID=$(pgrep -f "substrate.jar dev --data-dir $DATA/d" | head -1)
until [ "$(curl -s -o /dev/null -w '%{http_code}' "$API/ready")" = 200 ]; do sleep 1; done
api() { curl -sS -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' "$@"; }
OBS=$(api "$API/v1/tokens" -d '{"principal":"watcher","roles":["observer"]}' | jq -r .token)
ROOM=$(api "$API/v1/rooms?wait=applied" -d '{"kind":"session","project":"project:heap/x","members":[{"principal":"watcher","role":"reader"}]}' | jq -r .roomId)
PORT=${API##*:}
# 50 slow readers: the request is sent, the answer never read.
for i in $(seq 50); do
  exec {fd}<>/dev/tcp/127.0.0.1/"$PORT"
  printf 'GET /v1/rooms/%s/stream HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer %s\r\n\r\n' "$ROOM" "$OBS" >&$fd
done
sleep 2
jstat -gc "$PID" 200 > "$DATA/gc" &
JSTAT=$!
BIG=$(head -c 700000 /dev/zero | tr '\0' 'x')
for i in $(seq 40); do
  printf '{"type":"LogEmitted","level":"info","message":"%s"}' "$BIG" > "$DATA/ev"
  api "$API/v1/rooms/$ROOM/events" --data-binary @"$DATA/ev" -o /dev/null
done
awk -v room="$ROOM" 'BEGIN {
  m = "{\"id\":\"m\",\"role\":\"user\",\"content\":\"" sprintf("%1000s", "") "\"}"
  printf "{\"messages\":[%s", m; for (i = 1; i < 4096; i++) printf ",%s", m
  printf "],\"threadId\":\"%s\",\"runId\":\"r\"}", room }' > "$DATA/body"
for i in $(seq 12); do
  curl -s -o /dev/null --max-time 5 -H "Authorization: Bearer $OBS" -H 'Content-Type: application/json' \
    --data-binary @"$DATA/body" "$API/v1/rooms/$ROOM/ag-ui" &
done
wait $(jobs -p | grep -v "^$DEV$" | grep -v "^$JSTAT$") 2>/dev/null || true
sleep 3
kill $JSTAT
# jstat -gc columns: S0U S1U EU OU are used KB; the heap used is their sum.
awk 'NR==2 && $1 ~ /^[0-9.]+$/ {printf "heap used at the start %.0f MB\n", ($3+$4+$6+$8)/1024} NR>1 && $1 ~ /^[0-9.]+$/ {used=$3+$4+$6+$8; if (used>max) max=used} END {printf "heap used at most %.0f MB of 512 MB (%.0f%%)\n", max/1024, max/1024/512*100}' "$DATA/gc"
curl -s -o /dev/null -w 'health %{http_code} in %{time_total} s\n' "$API/health"
