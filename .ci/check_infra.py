#!/usr/bin/env python3
"""Checks .gitlab-ci.yml (stages, needs, job graph without cycles), the compose files
(services build or pull an image, depends_on names existing services) and the Grafana dashboard
(the JSON parses, every metric its PromQL names is exported by src/prometheus.rs with a suffix
its type allows). Exit 1 on a problem."""
import json
import re
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


SUFFIXES = {"counter": ["_total"], "gauge": [""], "histogram": ["_bucket", "_sum", "_count"]}


def exported_metrics(source):
    """Series names /metrics can emit, from src/prometheus.rs: the prometheus-client families
    (`r.register("name", …, m.field.clone())` typed by the field's `Family<_, Counter|Histogram>`)
    and the scrape-time table `SCRAPED` (`("krawall_x", "gauge", …)`)."""
    prefix = re.search(r'Registry::with_prefix\("(\w+)"\)', source)
    prefix = prefix.group(1) + "_" if prefix else ""
    kinds = dict(re.findall(r"(\w+): Family<[^,]+,\s*(Counter|Histogram)", source))
    families = {}
    for name, field in re.findall(r'register\(\s*"(\w+)",\s*"(?:[^"\\]|\\.)*",\s*m\.(\w+)\.clone\(\)', source):
        if field in kinds:
            families[prefix + name] = kinds[field].lower()
    for name, kind in re.findall(r'\(\s*"(krawall_\w+)",\s*"(gauge|histogram|counter)"', source):
        families[name] = kind
    return {f + suffix for f, kind in families.items() for suffix in SUFFIXES[kind]}


def dashboard_queries(dashboard):
    """Every PromQL expression of the dashboard: panel targets (rows included) and variables."""
    def panels(items):
        for p in items:
            yield p
            yield from panels(p.get("panels", []))

    for p in panels(dashboard.get("panels", [])):
        for t in p.get("targets", []):
            yield p.get("title", "?"), t.get("expr", "")
    for v in dashboard.get("templating", {}).get("list", []):
        if v.get("type") == "query":
            q = v.get("query")
            yield "variable " + v.get("name", "?"), q.get("query", "") if isinstance(q, dict) else q or ""


def grafana(problems, dashboard_path=None, source_path=None):
    dashboard_path = dashboard_path or ROOT / "infra/grafana/krawall-dashboard.json"
    source_path = source_path or ROOT / "src/prometheus.rs"
    try:
        dashboard = json.loads(dashboard_path.read_text())
    except (OSError, json.JSONDecodeError) as e:
        problems.append(f"{dashboard_path.name}: {e}")
        return
    exported = exported_metrics(source_path.read_text())
    if not exported:
        problems.append(f"{source_path}: no metric families found (did the registration code change?)")
    used = 0
    for where, expr in dashboard_queries(dashboard):
        if not expr.strip():
            problems.append(f"{dashboard_path.name}: {where}: empty query")
        if expr.count("(") != expr.count(")") or expr.count("{") != expr.count("}"):
            problems.append(f"{dashboard_path.name}: {where}: unbalanced brackets in {expr}")
        for name in re.findall(r"\bkrawall_\w+", expr):
            used += 1
            if name not in exported:
                problems.append(f"{dashboard_path.name}: {where}: {name} is not exported by {source_path.name}")
    if used == 0:
        problems.append(f"{dashboard_path.name}: no query names a krawall_ metric")
    ids = [p.get("id") for p in dashboard.get("panels", [])]
    if len(ids) != len(set(ids)):
        problems.append(f"{dashboard_path.name}: duplicate panel ids")
    for path in sorted((ROOT / "infra/grafana").rglob("*.yml")):
        if not isinstance(yaml.safe_load(path.read_text()), dict):
            problems.append(f"{path.relative_to(ROOT)}: not a YAML mapping")


def main():
    problems = []
    gitlab(problems)
    for path in sorted((ROOT / "infra").glob("docker-compose*.yml")):
        compose(path, problems)
    grafana(problems)
    for p in problems:
        print(p, file=sys.stderr)
    if problems:
        sys.exit(1)
    print("gitlab-ci, compose files and the Grafana dashboard ok")


if __name__ == "__main__":
    main()
