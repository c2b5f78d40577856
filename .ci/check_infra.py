#!/usr/bin/env python3
"""Checks .gitlab-ci.yml (stages, needs, job graph without cycles) and the compose files
(services build or pull an image, depends_on names existing services). Exit 1 on a problem."""
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
RESERVED = {"stages", "variables", "default", "include", "workflow", "image", "services", "cache", "before_script", "after_script"}


def gitlab(problems):
    ci = yaml.safe_load((ROOT / ".gitlab-ci.yml").read_text())
    stages = ci.get("stages", [])
    jobs = {k: v for k, v in ci.items() if k not in RESERVED and not k.startswith(".")}
    if not jobs:
        problems.append(".gitlab-ci.yml: no jobs")
    for name, job in jobs.items():
        if not isinstance(job, dict) or "script" not in job:
            problems.append(f".gitlab-ci.yml: job {name} has no script")
            continue
        if job.get("stage", "test") not in stages:
            problems.append(f".gitlab-ci.yml: job {name} uses unknown stage {job.get('stage')}")
        for need in job.get("needs", []):
            need = need["job"] if isinstance(need, dict) else need
            if need not in jobs:
                problems.append(f".gitlab-ci.yml: job {name} needs unknown job {need}")
            elif stages.index(jobs[need].get("stage", "test")) > stages.index(job.get("stage", "test")):
                problems.append(f".gitlab-ci.yml: job {name} needs {need} from a later stage")
    seen, done = set(), set()

    def visit(name, path):
        if name in done or name not in jobs:
            return
        if name in seen:
            problems.append(f".gitlab-ci.yml: cycle in needs: {' -> '.join(path + [name])}")
            return
        seen.add(name)
        for need in jobs[name].get("needs", []):
            visit(need["job"] if isinstance(need, dict) else need, path + [name])
        done.add(name)

    for name in jobs:
        visit(name, [])


def compose(path, problems):
    doc = yaml.safe_load(path.read_text())
    services = doc.get("services", {})
    if not services:
        problems.append(f"{path.name}: no services")
    for name, svc in services.items():
        if "image" not in svc and "build" not in svc:
            problems.append(f"{path.name}: service {name} has neither image nor build")
        depends = svc.get("depends_on", [])
        for dep in depends if isinstance(depends, list) else depends.keys():
            if dep not in services:
                problems.append(f"{path.name}: service {name} depends on unknown {dep}")
    for vol in (v.split(":")[0] for s in services.values() for v in s.get("volumes", [])):
        if not vol.startswith((".", "/")) and vol not in (doc.get("volumes") or {}):
            problems.append(f"{path.name}: named volume {vol} is not declared")


def main():
    problems = []
    gitlab(problems)
    for path in sorted((ROOT / "infra").glob("docker-compose*.yml")):
        compose(path, problems)
    for p in problems:
        print(p, file=sys.stderr)
    if problems:
        sys.exit(1)
    print("gitlab-ci and compose files ok")


if __name__ == "__main__":
    main()
