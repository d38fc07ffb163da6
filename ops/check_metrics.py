#!/usr/bin/env python3
"""What the Rust test (issue 15) is to check, until it exists: template.yaml's dashboard body
renders to JSON, and every JwtAuth metric the dashboard and the alarms name is one of
ops/metrics.json, on a dimension set it declares; and every metric there is on the dashboard.
Needs PyYAML (in .venv with the SAM CLI). Prints `metrics: N passed, M failed`."""
import json
import re
import sys
from pathlib import Path

import yaml

root = Path(__file__).resolve().parent.parent


class Loader(yaml.SafeLoader):
    pass


def tagged(loader, suffix, node):
    if isinstance(node, yaml.ScalarNode):
        return {suffix: loader.construct_scalar(node)}
    if isinstance(node, yaml.SequenceNode):
        return {suffix: loader.construct_sequence(node, deep=True)}
    return {suffix: loader.construct_mapping(node, deep=True)}


Loader.add_multi_constructor("!", tagged)
template = yaml.load((root / "template.yaml").read_text(), Loader=Loader)
spec = json.loads((root / "ops/metrics.json").read_text())
resources = template["Resources"]
known, namespace = set(spec["metrics"]), spec["namespace"]
dimension_sets = [sorted(d) for d in spec["dimension_sets"]]
failures, passed = [], 0


def check(ok, what):
    global passed
    if ok:
        passed += 1
    else:
        failures.append(what)


body = resources["OperationsDashboard"]["Properties"]["DashboardBody"]["Sub"]
for name in re.findall(r"\$\{([^}]+)\}", body):
    base = name.split(".")[0]
    check(base.startswith("AWS::") or base in resources, f"dashboard: ${{{name}}} names nothing")
dashboard = json.loads(re.sub(r"\$\{[^}]+\}", "x", body))
on_dashboard = set()
for widget in dashboard["widgets"]:
    for metric in widget["properties"].get("metrics", []):
        if metric[0] != namespace:
            continue
        name, dims = metric[1], metric[2:]
        if dims and isinstance(dims[-1], dict):
            dims = dims[:-1]
        keys = sorted(dims[0::2])
        check(name in known, f"dashboard: {name} is not in ops/metrics.json")
        check(keys in dimension_sets, f"dashboard: {name} by {keys}, not a declared dimension set")
        on_dashboard.add(name)
for name in known - on_dashboard:
    check(False, f"dashboard: {name} of ops/metrics.json is not on the dashboard")

for rid, resource in resources.items():
    props = resource.get("Properties", {})
    if resource["Type"] == "AWS::CloudWatch::Alarm" and props.get("Namespace") == namespace:
        keys = sorted(d["Name"] for d in props.get("Dimensions", []))
        check(props["MetricName"] in known, f"{rid}: {props['MetricName']} is not in ops/metrics.json")
        check(keys in dimension_sets, f"{rid}: dimensions {keys}, not a declared dimension set")

for failure in failures:
    print("FAILED", failure)
print(f"metrics: {passed} passed, {len(failures)} failed")
sys.exit(1 if failures else 0)
