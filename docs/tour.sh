#!/usr/bin/env bash
# The README's five-minute tour, as one script: every command the tour shows, in order, against a running
# `./substrate dev`. CI runs it (TourIT, on free ports), so every command here is one that works.
#
#   ./substrate dev          # in one terminal, from the repository's root
#   bash docs/tour.sh        # in another, from the same directory
#
# Needs curl and jq; kcat for the Kafka step (skipped without it). Each step checks what it shows (jq -e fails
# the script when an answer is not the one described), so a run that ends with "tour: done" saw it all.
set -euo pipefail

# Where things are: ./substrate dev's defaults, or what it printed at start.
API=${SUBSTRATE_URL:-http://localhost:8080}
BOOTSTRAP=${SUBSTRATE_BOOTSTRAP_SERVERS:-localhost:9092}
TOKEN=${SUBSTRATE_TOKEN:-$(cat .substrate/admin.token)}
# Every /v1 request carries the bearer token; dev wrote an admin token on first start.
api() { curl -sS -H "Authorization: Bearer $TOKEN" "$@"; }

echo "== the broker is an ordinary Kafka broker"
curl -sS "$API/health" | jq -e '.status == "up"'
if command -v kcat >/dev/null; then
  echo hello | kcat -P -b "$BOOTSTRAP" -t scratch
  kcat -C -b "$BOOTSTRAP" -t scratch -o beginning -c 1 -e              # hello
fi

echo "== a run: appended over HTTP, decided by the fold, read at least as new as the append"
RUN=$(api "$API/v1/runs" -d '{"project": "project:acme/web", "correlationId": "deploy-42"}' | jq -r .runId)
echo "run $RUN"
POSITION=$(api "$API/v1/runs/$RUN/events" -d '{"type": "RunStarted", "expectedVersion": 1}' | jq -r .position)
api -H "X-Substrate-Position: $POSITION" "$API/v1/runs/$RUN" | jq -e '.status == "running"'
api "$API/v1/runs/$RUN/events" | jq -c '[.items[].payload.type]'     # ["RunCreated","RunStarted"]

echo "== the run asks a human: an interrupt, pushed to a webhook receiver"
export SUBSTRATE_URL=$API SUBSTRATE_TOKEN=$TOKEN
HOOKS=$(mktemp)
timeout 120 ./substrate webhooks listen -e run.waiting -e run.interrupt.answered --count 2 >"$HOOKS" &
until grep -q listening "$HOOKS"; do kill -0 $! || exit 1; sleep 0.1; done  # subscribed: it hears what follows
cat "$HOOKS"                 # listening on http://localhost:PORT/ as webhook wh-... (Ctrl-C to stop)
api "$API/v1/runs/$RUN/events?wait=applied" -d '{"type": "RunWaiting",
    "waitingOn": {"kind": "approval", "detail": "deploy to production?"},
    "interrupts": [{"interruptId": "approve", "reason": "tool_approval", "message": "Deploy to production?",
        "responseSchema": {"type": "object", "required": ["approved"],
                           "properties": {"approved": {"type": "boolean"}}}}]}' | jq -e '.outcome == "applied"'
api "$API/v1/runs/$RUN/events?wait=applied" -d '{"type": "RunStarted"}' | jq -e '.status == 409'
#   {"type":"urn:substrate:problem:rejected",...,"detail":"RunStarted is not allowed for a run that is waiting",
#    "reason":"illegal_transition"}: the fold refused it, and says why

echo "== runs, filtered and counted"
api "$API/v1/runs?status=waiting&waitingOn=approval&correlationId=deploy-42" | jq -e --arg run "$RUN" \
    'any(.items[]; .runId == $run)'
api "$API/v1/runs/counts?groupBy=status&project=project:acme/web" | jq -c .counts    # {"waiting":1}
api "$API/v1/runs?correlationID=deploy-42" | jq -e '.status == 400 and .field == "correlationID"'

echo "== the operator CLI reads and acts through the same API: it answers the interrupt"
./substrate runs list --interrupt open --correlation-id deploy-42
./substrate runs answer "$RUN" approve --payload '{"approved": "yes"}' || true
#   refused (invalid_answer): the payload does not satisfy the responseSchema of interrupt approve: ...
./substrate runs answer "$RUN" approve --payload '{"approved": true}'  # answered: ...; the run is now running
wait                         # the receiver got both notifications, and stopped
cat "$HOOKS"                 # run.waiting run RUN_ID (..., verified)
                             # run.interrupt.answered run RUN_ID interrupt approve (..., verified)
grep -q 'run.interrupt.answered.*verified' "$HOOKS" && rm -f "$HOOKS"
./substrate runs label "$RUN" --set team:web --wait

echo "== a room: a turn, and a block of text streamed in deltas (a batch of events, in order)"
ROOM=$(api "$API/v1/rooms" -d "{\"kind\": \"session\", \"project\": \"project:acme/web\", \"runId\": \"$RUN\"}" \
    | jq -r .roomId)
echo "room $ROOM"
api "$API/v1/rooms/$ROOM/events?wait=applied" -d '[
    {"type": "TurnStarted", "turnId": "t1"},
    {"type": "BlockStarted", "blockId": "b1", "turnId": "t1", "kind": "text", "role": "assistant"},
    {"type": "TextDelta", "blockId": "b1", "text": "Hello, "},
    {"type": "TextDelta", "blockId": "b1", "text": "world"},
    {"type": "BlockCompleted", "blockId": "b1"},
    {"type": "TurnEnded", "turnId": "t1", "usage": {"provider": "openai", "model": "gpt-4o",
        "inputTokens": 1200, "outputTokens": 300, "cost": {"amount": "0.0105", "currency": "USD"}}}]' \
    | jq -e 'all(.items[]; .outcome == "applied")'
# Its stream over SSE, from the start (then live; --max-time ends it here): each event's id is its cursor.
STREAM=$(curl -s -N --max-time 3 -H "Authorization: Bearer $TOKEN" "$API/v1/rooms/$ROOM/stream" || true)
grep -B1 -A1 '^event: TextDelta' <<<"$STREAM"     # id: 3, event: TextDelta, data: {...,"text":"Hello, "...}
[ "$(grep -c '^event: TextDelta' <<<"$STREAM")" = 2 ]
./substrate rooms transcript "$ROOM"

echo "== what it cost: usage by model, summed over every instance"
./substrate usage --group-by model --project project:acme/web
api "$API/v1/usage?groupBy=run&runId=$RUN" | jq -e '.groups[0].cost.amount == "0.0105"'

echo "== an artifact, and its bytes kept in Kafka"
ARTIFACT=$(api "$API/v1/artifacts?wait=applied" -d "{\"kind\": \"log\", \"name\": \"build.log\",
    \"parentId\": \"project:acme/web\", \"provenance\": {\"runId\": \"$RUN\"}}" | jq -r .artifactId)
echo "artifact $ARTIFACT"
LOG=$(mktemp)
printf 'line 1\nline 2\n' >"$LOG"
api -X PUT -H 'Content-Type: text/plain' --data-binary @"$LOG" \
    -H "X-Substrate-Digest: sha256:$(sha256sum "$LOG" | cut -d' ' -f1)" \
    "$API/v1/artifacts/$ARTIFACT/content" | jq -e '.size == 14'
api "$API/v1/artifacts/$ARTIFACT/content" | cmp - "$LOG"
api -H 'Range: bytes=0-5' "$API/v1/artifacts/$ARTIFACT/content"          # line 1
echo
./substrate artifacts get "$ARTIFACT" -o "$LOG.copy" && cmp "$LOG" "$LOG.copy"
rm -f "$LOG" "$LOG.copy"

echo "== the run succeeds"
./substrate runs append "$RUN" '{"type": "RunSucceeded", "result": {"summary": "deployed"}}' --wait
api "$API/v1/runs/$RUN" | jq -e '.status == "succeeded"'

echo "== a retention policy, set disabled and planned before it deletes anything"
./substrate retention set old-runs --applies runs --older-than 30d --project 'project:acme/*' --keep pinned --disabled
./substrate retention plan old-runs
api "$API/v1/retention/plan?policy=old-runs" | jq -e '.total == 0 and .policy.enabled == false'

echo "tour: done"
