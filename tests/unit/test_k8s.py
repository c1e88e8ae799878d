"""Static checks of the Kubernetes manifests under infra/k8s (no cluster needed): they parse, every
Deployment has probes and resources, names and ports line up, and every NEWSWIRE_* variable is a setting."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from shared.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
K8S = ROOT / "infra" / "k8s"
NAMESPACE = "newswire"
IMAGE = "newswire:latest"  # the image docker-compose.yml builds from infra/Dockerfile
SETTINGS = {f"NEWSWIRE_{name.upper()}" for name in Settings.model_fields}
SUBCOMMANDS = {"serve", "worker", "flower", "migrate", "relay"}

Doc = dict[str, Any]


def _load(path: Path) -> list[Doc]:
    return [doc for doc in yaml.safe_load_all(path.read_text()) if doc is not None]


@pytest.fixture(scope="module")
def docs() -> list[Doc]:
    kustomization = yaml.safe_load((K8S / "kustomization.yaml").read_text())
    listed = kustomization["resources"]
    on_disk = sorted(p.name for p in K8S.glob("*.yaml") if p.name != "kustomization.yaml")
    assert sorted(listed) == on_disk, "kustomization.yaml lists every manifest, and only those"
    return [doc for name in listed for doc in _load(K8S / name)]


def _of(docs: list[Doc], kind: str) -> dict[str, Doc]:
    return {d["metadata"]["name"]: d for d in docs if d["kind"] == kind}


def _containers(doc: Doc) -> list[Doc]:
    containers: list[Doc] = doc["spec"]["template"]["spec"]["containers"]
    return containers


def test_every_manifest_is_well_formed(docs: list[Doc]) -> None:
    kinds = {d["kind"] for d in docs}
    assert {"Namespace", "ConfigMap", "Secret", "Job", "Deployment", "Service", "ScaledObject"} <= kinds
    for doc in docs:
        assert doc["apiVersion"]
        assert doc["metadata"]["name"]
        if doc["kind"] != "Namespace":
            assert doc["metadata"]["namespace"] == NAMESPACE, doc["metadata"]["name"]
    assert set(_of(docs, "Deployment")) == {
        "newswire-ingest",
        "newswire-api",
        "newswire-relay",
        "newswire-worker",
        "newswire-flower",
    }


def test_deployments_have_probes_resources_and_the_image(docs: list[Doc]) -> None:
    for name, deployment in _of(docs, "Deployment").items():
        spec = deployment["spec"]
        labels = spec["template"]["metadata"]["labels"]
        assert spec["selector"]["matchLabels"].items() <= labels.items(), name
        for container in _containers(deployment):
            assert container["image"] == IMAGE, name
            assert container["args"][0] in SUBCOMMANDS, name
            assert "livenessProbe" in container, f"{name}: no liveness probe"
            assert "readinessProbe" in container, f"{name}: no readiness probe"
            for kind in ("requests", "limits"):
                assert {"cpu", "memory"} <= set(container["resources"][kind]), f"{name}: {kind}"
            port_names = {p["name"] for p in container.get("ports", [])}
            for probe in ("livenessProbe", "readinessProbe", "startupProbe"):
                port = container.get(probe, {}).get("httpGet", {}).get("port")
                if isinstance(port, str):
                    assert port in port_names, f"{name}: {probe} on unknown port {port}"


@pytest.mark.parametrize(("name", "port"), [("newswire-ingest", 8001), ("newswire-api", 8000)])
def test_http_services_probe_healthz_and_readyz(docs: list[Doc], name: str, port: int) -> None:
    (container,) = _containers(_of(docs, "Deployment")[name])
    assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
    assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert container["ports"][0]["containerPort"] == port
    assert container["args"][container["args"].index("--port") + 1] == str(port)
    service = _of(docs, "Service")[name]
    assert service["spec"]["selector"] == {"app.kubernetes.io/name": name}
    assert service["spec"]["ports"][0]["port"] == port


def test_services_select_a_deployment(docs: list[Doc]) -> None:
    deployments = _of(docs, "Deployment")
    for name, service in _of(docs, "Service").items():
        matched = [
            d
            for d in deployments.values()
            if service["spec"]["selector"].items() <= d["spec"]["template"]["metadata"]["labels"].items()
        ]
        assert len(matched) == 1, f"service {name} selects {len(matched)} deployments"


def _env_names(docs: list[Doc]) -> set[str]:
    names: set[str] = set()
    for doc in docs:
        if doc["kind"] == "ConfigMap":
            names |= set(doc["data"])
        if doc["kind"] == "Secret":
            names |= set(doc.get("stringData", {})) | set(doc.get("data", {}))
        if doc["kind"] in ("Deployment", "Job"):
            for container in _containers(doc):
                names |= {e["name"] for e in container.get("env", [])}
    return names


def test_every_newswire_variable_is_a_setting(docs: list[Doc]) -> None:
    names = {n for n in _env_names(docs) if n.startswith("NEWSWIRE_")}
    assert names, "no settings at all"
    assert names <= SETTINGS, f"not settings: {sorted(names - SETTINGS)}"
    assert {"NEWSWIRE_DATABASE_URL", "NEWSWIRE_REDIS_URL"} <= names


def test_compose_variables_are_settings_too() -> None:
    services = yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]
    names = {
        str(name)
        for service in services.values()
        if isinstance(service.get("environment"), dict)
        for name in service["environment"]
        if str(name).startswith("NEWSWIRE_")
    }
    assert names <= SETTINGS, f"not settings: {sorted(names - SETTINGS)}"


def test_containers_read_the_config_and_the_secret(docs: list[Doc]) -> None:
    configmaps, secrets = set(_of(docs, "ConfigMap")), set(_of(docs, "Secret"))
    for doc in docs:
        if doc["kind"] not in ("Deployment", "Job"):
            continue
        for container in _containers(doc):
            refs = container["envFrom"]
            assert {r["configMapRef"]["name"] for r in refs if "configMapRef" in r} <= configmaps
            assert {r["secretRef"]["name"] for r in refs if "secretRef" in r} <= secrets
            assert len(refs) == 2, doc["metadata"]["name"]


def test_migration_job(docs: list[Doc]) -> None:
    job = _of(docs, "Job")["newswire-migrate"]
    (container,) = _containers(job)
    assert container["args"] == ["migrate"]
    assert job["spec"]["template"]["spec"]["restartPolicy"] in {"OnFailure", "Never"}


def test_workers_scale_with_the_enrich_queue(docs: list[Doc]) -> None:
    (config,) = _of(docs, "ConfigMap").values()
    (scaled,) = _of(docs, "ScaledObject").values()
    worker = _of(docs, "Deployment")["newswire-worker"]
    assert scaled["spec"]["scaleTargetRef"]["name"] == "newswire-worker"
    assert 1 <= scaled["spec"]["minReplicaCount"] < scaled["spec"]["maxReplicaCount"]
    (trigger,) = scaled["spec"]["triggers"]
    assert trigger["type"] == "redis"
    assert trigger["metadata"]["listName"] == config["data"]["NEWSWIRE_ENRICH_QUEUE"]
    assert int(trigger["metadata"]["listLength"]) > 0
    # the trigger's Redis is the one the workers use
    (secret,) = _of(docs, "Secret").values()
    redis_url = secret["stringData"]["NEWSWIRE_REDIS_URL"]
    assert trigger["metadata"]["address"] in redis_url
    assert redis_url.endswith("/" + trigger["metadata"]["databaseIndex"])
    # the metrics port: setting, container port and scrape annotation agree
    (container,) = _containers(worker)
    port = config["data"]["NEWSWIRE_WORKER_METRICS_PORT"]
    assert container["ports"][0]["containerPort"] == int(port)
    assert worker["spec"]["template"]["metadata"]["annotations"]["prometheus.io/port"] == port
    assert config["data"]["NEWSWIRE_WORKER_CONCURRENCY"] == "1"
