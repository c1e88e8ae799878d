"""Static checks of the monitoring config: infra/prometheus.yml, infra/prometheus/alerts.yml and the Grafana
provisioning and dashboard under infra/grafana/, against docker-compose.yml and the code.

The metric names come from the code itself: the metric objects registered when the services' modules are
imported, and the scrape-time collectors the API installs (their ``describe()``). Every panel query and
alert expression is parsed as PromQL (promql-parser) and may only name metrics the services export, with
labels those metrics carry."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import promql_parser
import pytest
import yaml
from prometheus_client import REGISTRY
from prometheus_client.metrics import MetricWrapperBase
from prometheus_client.registry import Collector
from sqlalchemy.orm import sessionmaker

ROOT = Path(__file__).resolve().parents[2]
INFRA = ROOT / "infra"
COMPOSE_FILE = ROOT / "docker-compose.yml"
PROMETHEUS_FILE = INFRA / "prometheus.yml"
ALERTS_FILE = INFRA / "prometheus" / "alerts.yml"
GRAFANA = INFRA / "grafana"
DASHBOARDS = sorted((GRAFANA / "dashboards").glob("*.json"))

# Series Prometheus makes itself, and labels it adds to every scraped sample (infra/prometheus.yml).
PROMETHEUS_SERIES = {"up": frozenset(), "scrape_duration_seconds": frozenset()}
SCRAPE_LABELS = frozenset({"job", "instance", "service"})
# Grafana's variables, as Prometheus would see them once Grafana substituted them.
GRAFANA_VARIABLES = {"$__rate_interval": "5m", "$__interval": "1m", "$__range": "1h"}
# (no `_created`: the multiprocess mode of the workers does not export it)
SUFFIXES = {
    "counter": ("_total",),
    "histogram": ("_bucket", "_sum", "_count"),
    "summary": ("", "_sum", "_count"),
    "gauge": ("",),
    "info": ("_info",),
}
# Services that run Newswire code with metrics (flower and migrate have none of ours).
METRIC_SERVICES = {"ingest", "api", "worker"}


# --- what the code exports ---------------------------------------------------------------------


def _families(collector: Collector) -> Iterator[tuple[str, str, frozenset[str]]]:
    """(family name, type, label names) of a collector, without collecting (no database needed)."""
    for family in collector.describe():  # type: ignore[attr-defined]
        labels = getattr(collector, "_labelnames", None)  # a metric object: its declared labels
        if labels is None:
            labels = getattr(family, "_labelnames", ())  # a scrape-time family: the labels it was built with
        yield family.name, family.type, frozenset(labels)


@pytest.fixture(scope="module")
def exported() -> dict[str, frozenset[str]]:
    """Every series name the services export -> its label names."""
    # importing the services registers their metric objects in the default registry
    import services.enrich.articles.tasks
    import services.ingest.app  # noqa: F401 - ingest's metrics
    import shared.jobs.relay  # noqa: F401 - the relay's metrics
    from services.api.app import create_app

    collectors: list[Collector] = [
        c
        for c in list(REGISTRY._collector_to_names)  # the default registry's collectors
        if isinstance(c, MetricWrapperBase)
    ]
    app = create_app()
    app.state.session_factory = sessionmaker()  # the collectors are only described, never collected
    collectors += [make(app) for make in app.state.metrics_collectors]

    names: dict[str, frozenset[str]] = dict(PROMETHEUS_SERIES)
    for collector in collectors:
        for name, kind, labels in _families(collector):
            for suffix in SUFFIXES[kind]:
                names[name + suffix] = labels | ({"le"} if suffix == "_bucket" else set())
    newswire = {n for n in names if n.startswith("newswire_")}
    # the walk found the metrics of every process kind (a broken import would find none)
    for expected in (
        "newswire_ingest_articles_accepted_total",
        "newswire_http_request_seconds_bucket",
        "newswire_enrich_tasks_total",
        "newswire_queue_depth",
        "newswire_source_silent",
    ):
        assert expected in newswire, sorted(newswire)
    return names


# --- PromQL ------------------------------------------------------------------------------------


@dataclass
class Selector:
    name: str | None
    labels: set[str]


def _children(node: Any) -> list[Any]:
    out = []
    for attr in ("expr", "lhs", "rhs", "param", "vector_selector"):
        child = getattr(node, attr, None)
        if child is not None and not isinstance(child, (str, int, float)):
            out.append(child)
    out.extend(getattr(node, "args", None) or [])
    return out


def _selectors(node: Any) -> list[Selector]:
    if type(node).__name__ == "VectorSelector":
        return [Selector(node.name, {m.name for m in node.matchers.matchers} - {"__name__"})]
    return [s for child in _children(node) for s in _selectors(child)]


def _groupings(node: Any) -> Iterator[tuple[set[str], list[Selector]]]:
    """(labels of `by (...)`, selectors aggregated) of every aggregation."""
    modifier = getattr(node, "modifier", None) if type(node).__name__ == "AggregateExpr" else None
    if modifier is not None and str(modifier).lower().startswith("by"):
        yield set(modifier.labels), _selectors(node.expr)
    for child in _children(node):
        yield from _groupings(child)


def check_promql(expr: str, exported: dict[str, frozenset[str]], where: str) -> list[str]:
    """Problems of one expression: syntax, unknown metrics, labels the metrics do not carry."""
    for variable, value in GRAFANA_VARIABLES.items():
        expr = expr.replace(variable, value)
    try:
        tree = promql_parser.parse(expr)
    except ValueError as exc:
        return [f"{where}: does not parse: {exc}: {expr}"]
    problems = []
    for selector in _selectors(tree):
        if selector.name is None:
            problems.append(f"{where}: a selector without a metric name: {expr}")
        elif selector.name not in exported:
            problems.append(f"{where}: {selector.name} is not exported by any service")
        elif selector.labels - exported[selector.name] - SCRAPE_LABELS:
            unknown = selector.labels - exported[selector.name] - SCRAPE_LABELS
            problems.append(f"{where}: {selector.name} has no label {sorted(unknown)}")
    for labels, selectors in _groupings(tree):
        carried = set(SCRAPE_LABELS)
        for selector in selectors:
            carried |= exported.get(selector.name or "", frozenset())
        if labels - carried:
            missing = sorted(labels - carried)
            problems.append(f"{where}: grouped by {missing}, a label none of its metrics has")
    return problems


def test_the_promql_check_catches_mistakes() -> None:
    exported = {"newswire_x_total": frozenset({"error"}), "newswire_h_bucket": frozenset({"le"})}
    assert check_promql('sum by (error) (rate(newswire_x_total{error="E"}[5m]))', exported, "ok") == []
    quantile = "histogram_quantile(0.9, sum by (le) (rate(newswire_h_bucket[5m])))"
    assert check_promql(quantile, exported, "ok") == []
    assert check_promql("rate(newswire_x[5m])", exported, "p")  # no _total suffix
    assert check_promql('rate(newswire_x_total{reason="r"}[5m])', exported, "p")  # no such label
    assert check_promql("sum by (reason) (rate(newswire_x_total[5m]))", exported, "p")
    assert check_promql("sum(rate(newswire_x_total[5m])", exported, "p")  # syntax


# --- Grafana -----------------------------------------------------------------------------------


def _panels(panels: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    for panel in panels:
        yield panel
        yield from _panels(panel.get("panels", []))


def _datasource_uids() -> set[str]:
    uids = set()
    for path in (GRAFANA / "provisioning" / "datasources").glob("*.yml"):
        for source in yaml.safe_load(path.read_text())["datasources"]:
            uids.add(source["uid"])
    return uids


def test_dashboards_exist() -> None:
    assert DASHBOARDS, "no Grafana dashboard under infra/grafana/dashboards"


@pytest.mark.parametrize("path", DASHBOARDS, ids=lambda p: p.name)
def test_dashboard_queries_name_exported_metrics(path: Path, exported: dict[str, frozenset[str]]) -> None:
    dashboard = json.loads(path.read_text())
    assert dashboard["uid"]
    assert dashboard["title"]
    uids = _datasource_uids()
    problems: list[str] = []
    queries = 0
    ids = set()
    for panel in _panels(dashboard["panels"]):
        assert panel["id"] not in ids, f"panel id {panel['id']} twice"
        ids.add(panel["id"])
        if panel["type"] == "row":
            continue
        assert panel["datasource"]["uid"] in uids, f"{panel['title']}: unknown datasource"
        assert panel["targets"], f"{panel['title']}: no query"
        for target in panel["targets"]:
            queries += 1
            problems += check_promql(target["expr"], exported, f"{path.name} / {panel['title']}")
    assert not problems, "\n".join(problems)
    assert queries >= 10


def test_dashboard_covers_flow_lag_queues_and_failures() -> None:
    text = " ".join(path.read_text() for path in DASHBOARDS)
    for metric in (
        "newswire_ingest_articles_accepted_total",
        "newswire_ingest_articles_duplicate_total",
        "newswire_ingest_articles_rejected_total",
        "newswire_enrich_lag_seconds_bucket",
        "newswire_queue_depth",
        "newswire_outbox_backlog",
        "newswire_enrich_task_seconds_bucket",
        "newswire_enrich_retries_total",
        "newswire_enrich_failures_total",
        "newswire_enrich_dead_lettered_total",
        "newswire_model_load_seconds",
        "newswire_source_silent",
    ):
        assert metric in text, f"no panel shows {metric}"


def test_grafana_is_provisioned_by_compose(compose_services: dict[str, Any]) -> None:
    grafana = compose_services["grafana"]
    assert grafana["profiles"] == ["monitoring"]
    mounts = {m.split(":")[0]: m.split(":")[1] for m in grafana["volumes"] if m.startswith("./")}
    assert mounts["./infra/grafana/provisioning"] == "/etc/grafana/provisioning"
    (provider,) = yaml.safe_load((GRAFANA / "provisioning" / "dashboards" / "newswire.yml").read_text())[
        "providers"
    ]
    assert mounts["./infra/grafana/dashboards"] == provider["options"]["path"]
    (source,) = yaml.safe_load((GRAFANA / "provisioning" / "datasources" / "prometheus.yml").read_text())[
        "datasources"
    ]
    host, port = source["url"].removeprefix("http://").split(":")
    assert host in compose_services
    assert f"{port}:{port}" in compose_services[host]["ports"]
    assert "prometheus" in grafana["depends_on"]


# --- Prometheus --------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def compose_services() -> dict[str, Any]:
    services: dict[str, Any] = yaml.safe_load(COMPOSE_FILE.read_text())["services"]
    return services


@pytest.fixture(scope="module")
def prometheus() -> dict[str, Any]:
    config: dict[str, Any] = yaml.safe_load(PROMETHEUS_FILE.read_text())
    return config


def _listening_ports(service: dict[str, Any]) -> set[int]:
    """Ports a compose service listens on inside the network: --port, expose, the container side of
    ports, and the worker's metrics port."""
    ports: set[int] = set()
    command = [str(c) for c in service.get("command", [])]
    ports |= {int(command[i + 1]) for i, part in enumerate(command[:-1]) if part == "--port"}
    ports |= {int(str(p)) for p in service.get("expose", [])}
    ports |= {int(str(p).split(":")[-1].split("/")[0]) for p in service.get("ports", [])}
    env = service.get("environment", {})
    if isinstance(env, dict) and "NEWSWIRE_WORKER_METRICS_PORT" in env:
        ports.add(int(env["NEWSWIRE_WORKER_METRICS_PORT"]))
    return ports


def _targets(job: dict[str, Any]) -> list[tuple[str, int]]:
    out = []
    for static in job.get("static_configs", []):
        for target in static["targets"]:
            host, port = target.rsplit(":", 1)
            out.append((host, int(port)))
    for dns in job.get("dns_sd_configs", []):
        out += [(name, int(dns["port"])) for name in dns["names"]]
    return out


def test_scrape_targets_are_compose_services_on_their_ports(
    prometheus: dict[str, Any], compose_services: dict[str, Any]
) -> None:
    jobs = prometheus["scrape_configs"]
    assert len({job["job_name"] for job in jobs}) == len(jobs), "job names are unique"
    scraped = set()
    for job in jobs:
        assert _targets(job), f"{job['job_name']} has no target"
        for host, port in _targets(job):
            assert host in compose_services, f"{job['job_name']}: no compose service {host!r}"
            assert port in _listening_ports(compose_services[host]), f"{host} does not listen on {port}"
            scraped.add(host)
    assert scraped >= METRIC_SERVICES, f"not scraped: {METRIC_SERVICES - scraped}"


def test_worker_serves_metrics_where_prometheus_looks(
    prometheus: dict[str, Any], compose_services: dict[str, Any]
) -> None:
    worker = compose_services["worker"]
    port = int(worker["environment"]["NEWSWIRE_WORKER_METRICS_PORT"])
    assert port > 0, "0 turns the worker's metrics off"
    assert str(port) in [str(p) for p in worker["expose"]]
    (job,) = [j for j in prometheus["scrape_configs"] if ("worker", port) in _targets(j)]
    assert job["job_name"] == "newswire-worker", "the alert rules refer to this job name"
    assert worker["deploy"]["replicas"] > 1
    assert job.get("dns_sd_configs"), "several replicas: found by DNS, not one static target"


def test_rule_files_are_mounted(prometheus: dict[str, Any], compose_services: dict[str, Any]) -> None:
    mounts = dict(m.split(":")[:2] for m in compose_services["prometheus"]["volumes"] if m.startswith("./"))
    mounted = {container: ROOT / host for host, container in mounts.items()}
    assert prometheus["rule_files"]
    for rule_file in prometheus["rule_files"]:
        assert rule_file in mounted, f"{rule_file} is not mounted into the prometheus service"
        assert mounted[rule_file].is_file()
    assert mounted[prometheus["rule_files"][0]].resolve() == ALERTS_FILE.resolve()


# --- alert rules -------------------------------------------------------------------------------

_DURATION = re.compile(r"^\d+[smhdw]$")


def _rules() -> list[dict[str, Any]]:
    groups = yaml.safe_load(ALERTS_FILE.read_text())["groups"]
    return [rule for group in groups for rule in group["rules"]]


def test_alert_rules_are_complete_and_name_exported_metrics(exported: dict[str, frozenset[str]]) -> None:
    rules = _rules()
    names = [rule["alert"] for rule in rules]
    assert len(set(names)) == len(names), "alert names are unique"
    problems: list[str] = []
    for rule in rules:
        assert _DURATION.match(str(rule.get("for", "0m"))), rule["alert"]
        assert rule["labels"]["severity"] in {"warning", "critical"}, rule["alert"]
        assert rule["annotations"]["summary"], rule["alert"]
        problems += check_promql(rule["expr"], exported, rule["alert"])
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize(
    ("alert", "metric"),
    [
        ("NewswireQueueGrowing", "newswire_queue_depth"),
        ("NewswireWorkerStalled", "newswire_enrich_tasks_total"),
        ("NewswireFailureRateRising", "newswire_enrich_failures_total"),
        ("NewswireOutboxBacklogGrowing", "newswire_outbox_backlog"),
        ("NewswireSourceSilent", "newswire_source_silent"),
    ],
)
def test_the_expected_alerts_exist(alert: str, metric: str) -> None:
    (rule,) = [r for r in _rules() if r["alert"] == alert]
    assert metric in rule["expr"]


def test_stalled_worker_alert_fires_without_any_worker_series() -> None:
    """With every worker down there is no tasks series at all: the rule must not need one."""
    (rule,) = [r for r in _rules() if r["alert"] == "NewswireWorkerStalled"]
    assert "or vector(0)" in rule["expr"]
