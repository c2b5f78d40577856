#!/usr/bin/env python3
"""Seeds a fresh node for .ci/fuzz (one of each resource) and writes a schemathesis config that
pins the `{id}` path parameters to them, so the fuzz reaches past 404s into the handlers.

usage: fuzz_seed.py BASE_URL CONFIG_OUT   (extra headers from the KRAWALL_FUZZ_HEADERS env var,
one `Name: value` per line)"""
import json
import os
import sys
import urllib.request

BASE, OUT = sys.argv[1], sys.argv[2]
HEADERS = dict(
    line.split(": ", 1) for line in os.environ.get("KRAWALL_FUZZ_HEADERS", "").splitlines() if line
)
# Nothing listens on port 9 (discard): sessions and webhooks fail fast instead of hanging.
NOWHERE = "http://127.0.0.1:9"


def call(method, path, body=None):
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(BASE + path, data=data, method=method)
    req.add_header("Content-Type", "application/json")
    for name, value in HEADERS.items():
        req.add_header(name, value)
    with urllib.request.urlopen(req, timeout=30) as resp:
        return json.load(resp)["data"]


target = call("POST", "/api/targets", {
    "name": "fuzz", "connectorType": "HTTP_REST", "endpoint": NOWHERE + "/v1/chat/completions",
    "authType": "BEARER_TOKEN", "authConfig": {"token": "sk-fuzz-secret"},
    "requestTemplate": {"messagePath": "messages.0.content",
                        "structure": {"messages": [{"role": "user", "content": ""}]}},
    "responseTemplate": {"responsePath": "choices.0.message.content"},
})["id"]
scenario = call("POST", "/api/scenarios", {
    "name": "fuzz", "flowConfig": [{"type": "message", "config": {"content": "ping"}}],
})["id"]
session = call("POST", "/api/execute", {"targetId": target, "scenarioId": scenario})["sessionId"]
batch = call("POST", "/api/execute/batch", {"scenarioId": scenario, "targetIds": [target]})["batchId"]
webhook = call("POST", "/api/webhooks", {"url": NOWHERE + "/hook", "events": ["session.failed"]})["id"]
delivery = call("POST", f"/api/webhooks/{webhook}/test")["deliveryId"]
schedule = call("POST", "/api/scheduled-jobs", {
    "name": "fuzz", "scenarioId": scenario, "targetIds": [target],
    "cronExpression": "0 0 0 1 1 *", "isEnabled": False,
})["id"]

PINS = [
    (r"^/api/targets/\{id\}", {"path.id": target}),
    (r"^/api/scenarios/\{id\}", {"path.id": scenario}),
    (r"^/api/sessions/\{id\}", {"path.id": session}),
    (r"^/api/execute/batch/\{id\}$", {"path.id": batch}),
    (r"^/api/webhooks/\{id\}", {"path.id": webhook, "path.delivery": delivery}),
    (r"^/api/scheduled-jobs/\{id\}$", {"path.id": schedule}),
    (r"^/api/scheduled-jobs$", {"query.id": schedule}),
]
with open(OUT, "w") as f:
    for regex, params in PINS:
        f.write("[[operations]]\n")
        f.write(f"include-path-regex = {json.dumps(regex)}\n")
        f.write("parameters = { " + ", ".join(f'"{k}" = "{v}"' for k, v in params.items()) + " }\n\n")
print(f"seeded target {target}, scenario {scenario}, session {session}, batch {batch}, "
      f"webhook {webhook} (delivery {delivery}), schedule {schedule}")
