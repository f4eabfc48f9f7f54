#!/usr/bin/env python3
"""Offline checks of warta's deployment files, run by .ci/check-deploy.

    check_deploy.py compose  --warta BIN          the compose stack
    check_deploy.py kubernetes --warta BIN        deploy/kubernetes (kustomize)
    check_deploy.py image --warta BIN             Dockerfile and .dockerignore
    check_deploy.py compose-schema SCHEMA.json    compose file vs a JSON schema

Each prints one line per check and exits 1 if any failed. "One source of
truth": wherever a deployment runs warta, its config file and WARTA_ variables
are fed to `warta check-config`, and the values the deployment repeats
(ports, group, topics, drain timeout) are compared with the effective
configuration that check-config prints, not with copies in this script.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import tomllib
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
DEPLOY = ROOT / "deploy"
COMPOSE = DEPLOY / "docker-compose.yml"
K8S = DEPLOY / "kubernetes"
DEPLOY_TOML = DEPLOY / "warta.toml"
DOCKERFILE = ROOT / "Dockerfile"
IMAGE_CONFIG = "/etc/warta/warta.toml"  # where the image reads its config file
# Kubernetes versions whose OpenAPI schemas the core manifests must pass.
K8S_VERSIONS = ("1.29.0", "1.37.0")
FAKE_POD_NAME = "warta-6d5f7c9b8-x7k2p"


class Report:
    def __init__(self) -> None:
        self.passed = 0
        self.failed: list[str] = []

    def ok(self, cond: object, what: str, detail: object = "") -> bool:
        if cond:
            self.passed += 1
            print(f"  ok   {what}")
        else:
            self.failed.append(what)
            print(f"  FAIL {what}")
            for line in str(detail).strip().splitlines():
                print(f"         {line}")
        return bool(cond)

    def finish(self, name: str) -> int:
        print(f"{name}: {self.passed} passed, {len(self.failed)} failed")
        return 1 if self.failed else 0


def rel(p: Path | str) -> str:
    try:
        return str(Path(p).resolve().relative_to(ROOT))
    except ValueError:
        return str(p)


def port_of(listen: str) -> int:
    return int(listen.rsplit(":", 1)[1])


def duration_ms(text: str | int) -> float:
    """A compose duration ("30s", "1m30s", "500ms") or a number of seconds."""
    if isinstance(text, (int, float)):
        return float(text) * 1000
    units = {"us": 0.001, "ms": 1, "s": 1000, "m": 60000, "h": 3600000}
    parts = re.findall(r"(\d+(?:\.\d+)?)(us|ms|s|m|h)", text)
    if not parts or "".join(n + u for n, u in parts) != text:
        raise ValueError(f"not a duration: {text!r}")
    return sum(float(n) * units[u] for n, u in parts)


# --- warta check-config -------------------------------------------------------


def check_config(
    r: Report, warta: str, label: str, config_file: Path, env: dict[str, str], shown_file: str = ""
) -> dict | None:
    """Runs `warta check-config --config FILE` with exactly `env` (and PATH) set.

    Returns the effective configuration it prints, or None if it failed."""
    stray = sorted(
        k for k in env if k.startswith("WARTA") and not k.startswith("WARTA__") and k != "WARTA_INSTANCE_ID"
    )
    r.ok(
        not stray,
        f"{label}: every WARTA variable is WARTA__SECTION__KEY or WARTA_INSTANCE_ID",
        f"warta ignores these: {stray}",
    )
    shown = " ".join(
        [f"{k}={shlex.quote(v)}" for k, v in sorted(env.items()) if k.startswith("WARTA")]
        + ["warta check-config --config", shown_file or rel(config_file)]
    )
    proc = subprocess.run(
        [warta, "check-config", "--config", str(config_file)],
        env={"PATH": os.environ.get("PATH", "/usr/bin:/bin"), **env},
        capture_output=True,
        text=True,
        timeout=60,
    )
    r.ok(
        proc.returncode == 0,
        f"{label}: `{shown}` exits 0",
        f"exit {proc.returncode}\n{proc.stderr}",
    )
    if proc.returncode != 0:
        return None
    try:
        return tomllib.loads(proc.stdout)
    except tomllib.TOMLDecodeError as e:
        r.ok(False, f"{label}: check-config prints the effective configuration as TOML", e)
        return None


def image_cmd() -> list[str]:
    """The Dockerfile's CMD (exec form)."""
    cmds = [a for i, a in dockerfile_instructions(DOCKERFILE.read_text())[-1]["body"] if i == "CMD"]
    return json.loads(cmds[-1]) if cmds else []


def config_arg(args: list[str]) -> str | None:
    for i, a in enumerate(args):
        if a == "--config" and i + 1 < len(args):
            return args[i + 1]
        if a.startswith("--config="):
            return a.split("=", 1)[1]
    return None


# --- compose ------------------------------------------------------------------


def load_compose() -> dict:
    return yaml.safe_load(COMPOSE.read_text())


def service_env(svc: dict) -> dict[str, str]:
    env = svc.get("environment") or {}
    if isinstance(env, list):
        env = dict(e.split("=", 1) if "=" in e else (e, "") for e in env)
    return {str(k): "" if v is None else str(v).lower() if isinstance(v, bool) else str(v) for k, v in env.items()}


def service_mounts(svc: dict) -> dict[str, Path]:
    """container path -> host path, for bind mounts."""
    out = {}
    for v in svc.get("volumes") or []:
        if isinstance(v, dict):
            src, dst = v.get("source"), v.get("target")
        else:
            parts = v.split(":")
            src, dst = parts[0], parts[1] if len(parts) > 1 else None
        if src and dst and (src.startswith(".") or src.startswith("/")):
            out[dst] = (COMPOSE.parent / src).resolve()
    return out


def topics_created(svc: dict) -> dict[str, dict]:
    """topic -> {"partitions": N, "config": {...}} from the initializer's script."""
    script = "\n".join(svc.get("command") or []) if isinstance(svc.get("command"), list) else svc.get("command", "")
    topics = {}
    for m in re.finditer(r"^\s*create\s+(\S+)\s+--partitions\s+(\d+)(.*)$", script, re.M):
        configs = dict(c.split("=", 1) for c in re.findall(r"--config\s+(\S+)", m.group(3)))
        topics[m.group(1)] = {"partitions": int(m.group(2)), "config": configs}
    return topics


def is_warta_service(svc: dict) -> bool:
    build = svc.get("build")
    ctx = build if isinstance(build, str) else (build or {}).get("context")
    return str(svc.get("image", "")).startswith("warta") or (
        ctx is not None and (COMPOSE.parent / ctx).resolve() == ROOT
    )


def compose_checks(warta: str) -> int:
    r = Report()
    d = load_compose()
    services = d.get("services", {})
    names = sorted(n for n, s in services.items() if is_warta_service(s))
    print(f"compose: warta services {names}")
    r.ok(len(names) >= 2, "compose runs at least two warta instances", names)

    effective = {}
    for name in names:
        svc = services[name]
        env = service_env(svc)
        args = svc.get("command") or image_cmd()
        args = shlex.split(args) if isinstance(args, str) else [str(a) for a in args]
        r.ok(args[:1] == ["run"], f"{name}: runs `warta run`", args)
        path = config_arg(args)
        mounts = service_mounts(svc)
        if path is None:
            host = None
        elif path in mounts:
            host = mounts[path]
        elif path == IMAGE_CONFIG:
            host = ROOT / "config" / "default.toml"  # what the image ships there
        else:
            host = None
        r.ok(host is not None and host.is_file(), f"{name}: --config {path} is a file of the repository", mounts)
        r.ok(host == DEPLOY_TOML.resolve(), f"{name}: its config file is deploy/warta.toml", host)
        if host is None or not host.is_file():
            continue
        eff = check_config(r, warta, name, host, env)
        if eff is None:
            continue
        effective[name] = eff
        port = port_of(eff["metrics"]["listen"])
        r.ok(eff["metrics"]["enabled"], f"{name}: metrics.enabled")
        published = [str(p) for p in svc.get("ports", [])]
        r.ok(
            all(p.rsplit(":", 1)[-1] == str(port) for p in published) and published,
            f"{name}: publishes metrics.listen's port {port}",
            published,
        )
        grace = duration_ms(svc.get("stop_grace_period", "10s"))
        drain = eff["shutdown"]["drain_timeout_ms"]
        r.ok(
            grace >= drain + 5000,
            f"{name}: stop_grace_period ({grace / 1000:g} s) exceeds shutdown.drain_timeout_ms "
            f"({drain / 1000:g} s) by at least 5 s",
        )
        r.ok("WARTA_INSTANCE_ID" in env, f"{name}: sets WARTA_INSTANCE_ID")

    complete = len(effective) == len(names)
    if not complete:
        print("  note the checks below that compare warta services skip those whose config was rejected")
    ids = [service_env(services[n]).get("WARTA_INSTANCE_ID") for n in names]
    r.ok(len(set(ids)) == len(ids), "warta instance ids are distinct", ids)
    groups = {e["kafka"]["group_id"] for e in effective.values()}
    if effective:
        r.ok(len(groups) == 1, "all warta services share one consumer group", groups)

    # Topics: the initializer creates every topic warta uses, and the state topic.
    init = [s for s in services.values() if topics_created(s)]
    r.ok(len(init) == 1, "one service creates the topics (kafka-init)")
    topics = topics_created(init[0]) if init else {}
    for name, eff in effective.items():
        t = eff["topics"]
        needed = list(t["input"]) + [t["articles"], t["headlines"], t["duplicates"], t["dead_letter"]]
        missing = [x for x in needed if x not in topics]
        r.ok(not missing, f"{name}: kafka-init creates every topic it uses", f"missing: {missing}")
    state = topics.get("warta-dedup-state", {})
    r.ok(state.get("config", {}).get("cleanup.policy") == "compact", "kafka-init creates warta-dedup-state compacted")
    for tname, t in topics.items():
        if t["config"].get("cleanup.policy") != "compact":
            r.ok("retention.ms" in t["config"], f"topic {tname}: retention set explicitly", t["config"])
    for name, eff in effective.items():
        dlq = int(topics.get(eff["topics"]["dead_letter"], {}).get("config", {}).get("max.message.bytes", 0))
        inputs = [int(topics.get(i, {}).get("config", {}).get("max.message.bytes", 1048588)) for i in eff["topics"]["input"]]
        produce = int(eff["kafka"]["producer"].get("message.max.bytes", 1000000))
        r.ok(
            all(dlq > i for i in inputs) and produce >= dlq,
            f"{name}: a dead letter fits (input topic max.message.bytes {inputs} < dead-letter topic's "
            f"{dlq} <= producer message.max.bytes {produce})",
        )

    # Scripts run by bash in the stack parse (compose turns $$ into $).
    for sname, svc in services.items():
        ep = svc.get("entrypoint") or []
        cmd = svc.get("command")
        if ep[:1] == ["/bin/bash"] and isinstance(cmd, list) and cmd:
            script = cmd[0].replace("$$", "$")
            p = subprocess.run(["bash", "-n", "-c", script], capture_output=True, text=True)
            r.ok(p.returncode == 0, f"{sname}: its bash script parses (bash -n)", p.stderr)

    producer = services.get("sample-producer", {})
    ptxt = " ".join(producer.get("command") or [])
    pm = service_mounts(producer)
    r.ok(
        any(h == (ROOT / "examples" / "pages.jsonl").resolve() for h in pm.values()),
        "sample-producer mounts examples/pages.jsonl",
    )
    for name, eff in effective.items():
        r.ok(f"--topic {eff['topics']['input'][0]} " in ptxt, f"sample-producer writes to {name}'s input topic")

    # Prometheus: job `warta`, one target per warta service, the rules loaded.
    prom_cfg = yaml.safe_load((DEPLOY / "prometheus" / "prometheus.yml").read_text())
    jobs = {j["job_name"]: j for j in prom_cfg.get("scrape_configs", [])}
    r.ok("warta" in jobs, "prometheus.yml has the scrape job `warta`")
    targets = sorted(t for sc in jobs.get("warta", {}).get("static_configs", []) for t in sc.get("targets", []))
    expected = sorted(f"{n}:{port_of(e['metrics']['listen'])}" for n, e in effective.items())
    if complete:
        r.ok(targets == expected, "job `warta` scrapes every warta service at its metrics port", f"{targets} != {expected}")
    r.ok("alerts.yml" in (prom_cfg.get("rule_files") or []), "prometheus.yml loads alerts.yml")
    prom = services.get("prometheus", {})
    pmounts = service_mounts(prom)
    for f in ("prometheus.yml", "alerts.yml"):
        host = DEPLOY / "prometheus" / f
        r.ok(pmounts.get(f"/etc/prometheus/{f}") == host.resolve(), f"prometheus mounts deploy/prometheus/{f}")
        r.ok(host.is_file(), f"deploy/prometheus/{f} exists")

    # Grafana: the provisioning files and the dashboard, where they point.
    gmounts = service_mounts(services.get("grafana", {}))
    prov = DEPLOY / "grafana" / "provisioning"
    r.ok(gmounts.get("/etc/grafana/provisioning") == prov.resolve(), "grafana mounts deploy/grafana/provisioning")
    r.ok(
        gmounts.get("/var/lib/grafana/dashboards/warta.json") == (DEPLOY / "grafana" / "warta.json").resolve(),
        "grafana mounts deploy/grafana/warta.json in /var/lib/grafana/dashboards",
    )
    r.ok((DEPLOY / "grafana" / "warta.json").is_file(), "deploy/grafana/warta.json exists")
    dash = prov / "dashboards" / "warta.yml"
    if r.ok(dash.is_file(), "deploy/grafana/provisioning/dashboards/warta.yml exists"):
        paths = [p.get("options", {}).get("path") for p in yaml.safe_load(dash.read_text()).get("providers", [])]
        r.ok("/var/lib/grafana/dashboards" in paths, "its dashboard provider reads /var/lib/grafana/dashboards", paths)
    ds = prov / "datasources" / "prometheus.yml"
    if r.ok(ds.is_file(), "deploy/grafana/provisioning/datasources/prometheus.yml exists"):
        urls = [x.get("url") for x in yaml.safe_load(ds.read_text()).get("datasources", [])]
        prom_ports = [str(p).split(":")[-1] for p in prom.get("ports", [])]
        r.ok(
            any(re.fullmatch(r"http://prometheus:(\d+)/?", u or "") and u.rstrip("/").rsplit(":", 1)[1] in prom_ports for u in urls),
            "its datasource points at the compose service prometheus",
            urls,
        )
    return r.finish("compose")


def compose_schema(schema_path: str) -> int:
    """Fallback when no compose implementation runs here: JSON-schema validation."""
    import jsonschema

    r = Report()
    schema = json.loads(Path(schema_path).read_text())
    errors = sorted(jsonschema.Draft7Validator(schema).iter_errors(load_compose()), key=lambda e: list(e.path))
    r.ok(not errors, f"deploy/docker-compose.yml is valid against {Path(schema_path).name}",
         "\n".join(f"{'/'.join(map(str, e.path))}: {e.message}" for e in errors))
    return r.finish("compose schema")


# --- Kubernetes ---------------------------------------------------------------


def render_kustomization(r: Report) -> list[dict]:
    kz = yaml.safe_load((K8S / "kustomization.yaml").read_text())
    files = sorted(p.name for p in K8S.iterdir() if p.suffix in (".yaml", ".yml") and p.name != "kustomization.yaml")
    r.ok(sorted(kz.get("resources", [])) == files, "kustomization.yaml lists every manifest in deploy/kubernetes",
         f"{sorted(kz.get('resources', []))} != {files}")
    if shutil.which("kubectl"):
        p = subprocess.run(["kubectl", "kustomize", str(K8S)], capture_output=True, text=True)
        r.ok(p.returncode == 0, "`kubectl kustomize deploy/kubernetes` renders", p.stderr)
        if p.returncode == 0:
            return [d for d in yaml.safe_load_all(p.stdout) if d]
    print("  note kubectl not found: validating the listed files without kustomize")
    docs = []
    for f in kz.get("resources", []):
        for d in yaml.safe_load_all((K8S / f).read_text()):
            if d:
                d.setdefault("metadata", {}).setdefault("namespace", kz.get("namespace"))
                docs.append(d)
    return docs


def tree_diff(a, b, path="") -> list[str]:
    """Where b (the model's round trip) differs from a (the manifest)."""
    if isinstance(a, dict) and isinstance(b, dict):
        out = []
        for k in a:
            if k not in b:
                out.append(f"{path}.{k}: unknown field (dropped by the schema)")
            else:
                out += tree_diff(a[k], b[k], f"{path}.{k}")
        return out
    if isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        return [x for i, (p, q) in enumerate(zip(a, b)) for x in tree_diff(p, q, f"{path}[{i}]")]
    return [] if a == b and type(a) is type(b) else [f"{path}: {a!r} became {b!r}"]


def crd_models() -> dict:
    from cloudcoil.models.keda.v1alpha1 import ScaledObject
    from cloudcoil.models.prometheus_operator.v1 import ServiceMonitor

    return {
        ("keda.sh/v1alpha1", "ScaledObject"): ("KEDA 2.16.1", ScaledObject),
        ("monitoring.coreos.com/v1", "ServiceMonitor"): ("prometheus-operator 0.80.1", ServiceMonitor),
    }


def labels_match(selector: dict, labels: dict) -> bool:
    return bool(selector) and all(labels.get(k) == v for k, v in selector.items())


def kubernetes_checks(warta: str) -> int:
    import kubernetes_validate
    import pydantic

    r = Report()
    docs = render_kustomization(r)
    by_kind: dict[str, list[dict]] = {}
    for d in docs:
        by_kind.setdefault(d["kind"], []).append(d)
    print("kubernetes: " + ", ".join(f"{d['kind']}/{d['metadata']['name']}" for d in docs))

    # Schemas: core kinds strictly against Kubernetes' OpenAPI, CRDs against
    # models generated from the upstream CRDs.
    crds = crd_models()
    for d in docs:
        kn = f"{d['kind']}/{d['metadata']['name']}"
        key = (d["apiVersion"], d["kind"])
        if key in crds:
            source, model = crds[key]
            try:
                back = model.model_validate(d).model_dump(by_alias=True, exclude_unset=True, mode="json")
                diffs = tree_diff(d, back)
                r.ok(not diffs, f"{kn}: valid against the {source} CRD schema (no unknown fields)", "\n".join(diffs))
            except pydantic.ValidationError as e:
                r.ok(False, f"{kn}: valid against the {source} CRD schema", e)
            continue
        for v in K8S_VERSIONS:
            try:
                kubernetes_validate.validate(d, v, strict=True)
                r.ok(True, f"{kn}: valid against Kubernetes {v[:-2]} (strict)")
            except kubernetes_validate.ValidationError as e:
                path = ".".join(map(str, e.path))
                r.ok(False, f"{kn}: valid against Kubernetes {v[:-2]} (strict)", f"{path}: {e.message}")
            except kubernetes_validate.SchemaNotFoundError:
                r.ok(False, f"{kn}: has a schema (Kubernetes {v[:-2]} or a known CRD)")
    for kind in ("ConfigMap", "Deployment", "Service", "ServiceMonitor", "PodDisruptionBudget", "ScaledObject"):
        r.ok(len(by_kind.get(kind, [])) == 1, f"exactly one {kind}")
    if any(len(by_kind.get(k, [])) != 1 for k in ("ConfigMap", "Deployment", "Service")):
        return r.finish("kubernetes")

    dep = by_kind["Deployment"][0]
    cm = by_kind["ConfigMap"][0]
    svc = by_kind["Service"][0]
    pod = dep["spec"]["template"]
    pod_labels = pod["metadata"].get("labels", {})
    containers = pod["spec"]["containers"]
    c = next((c for c in containers if c["name"] == "warta"), containers[0])

    # The config file: the ConfigMap's warta.toml is deploy/warta.toml, mounted
    # where --config points.
    r.ok(cm["data"].get("warta.toml") == DEPLOY_TOML.read_text(),
         "ConfigMap warta.toml is identical to deploy/warta.toml")
    args = [str(a) for a in (c.get("command", [])[1:] + c.get("args", []))] or image_cmd()
    r.ok(args[:1] == ["run"], "the container runs `warta run`", args)
    path = config_arg(args) or ""
    volumes = {v["name"]: v for v in pod["spec"].get("volumes", [])}
    content = None
    for m in c.get("volumeMounts", []):
        cmv = volumes.get(m["name"], {}).get("configMap")
        if not cmv:
            continue
        files = {i["path"]: i["key"] for i in cmv.get("items", [])} or {k: k for k in cm["data"]}
        for fpath, key in files.items():
            mounted = m["mountPath"] if m.get("subPath") else f"{m['mountPath'].rstrip('/')}/{fpath}"
            if m.get("subPath") and m["subPath"] != fpath:
                continue
            if mounted == path and cmv["name"] == cm["metadata"]["name"]:
                content = cm["data"][key]
    r.ok(content is not None, f"--config {path} is the ConfigMap's warta.toml, mounted")

    # The environment: literal values, the pod name, placeholders for secrets.
    env = {}
    for e in c.get("env", []):
        if "value" in e:
            env[e["name"]] = str(e["value"])
        elif e.get("valueFrom", {}).get("fieldRef", {}).get("fieldPath") == "metadata.name":
            env[e["name"]] = FAKE_POD_NAME
        elif "configMapKeyRef" in e.get("valueFrom", {}):
            ref = e["valueFrom"]["configMapKeyRef"]
            env[e["name"]] = next(x["data"][ref["key"]] for x in by_kind["ConfigMap"] if x["metadata"]["name"] == ref["name"])
        else:
            env[e["name"]] = "placeholder-from-" + next(iter(e.get("valueFrom", {"unknown": 0})))
    for ef in c.get("envFrom", []):
        if "configMapRef" in ef:
            src = next(x for x in by_kind["ConfigMap"] if x["metadata"]["name"] == ef["configMapRef"]["name"])
            env.update({ef.get("prefix", "") + k: v for k, v in src["data"].items()})
    r.ok(
        next((e for e in c.get("env", []) if e["name"] == "WARTA_INSTANCE_ID"), {}).get("valueFrom", {})
        .get("fieldRef", {}).get("fieldPath") == "metadata.name",
        "WARTA_INSTANCE_ID is the pod name",
    )
    eff = None
    if content is not None:
        with tempfile.TemporaryDirectory() as tmp:
            f = Path(tmp) / "warta.toml"
            f.write_text(content)
            eff = check_config(r, warta, "Deployment warta", f, env, f"<ConfigMap {cm['metadata']['name']}: warta.toml>")
    if eff is None:
        return r.finish("kubernetes")

    # Ports, probes, termination, resources, security.
    port = port_of(eff["metrics"]["listen"])
    ports = {p.get("name"): p["containerPort"] for p in c.get("ports", [])}
    r.ok(eff["metrics"]["enabled"], "metrics.enabled")
    r.ok(ports.get("metrics") == port, f"container port `metrics` is metrics.listen's port {port}", ports)
    for probe, want in (("livenessProbe", "/healthz"), ("readinessProbe", "/readyz")):
        g = c.get(probe, {}).get("httpGet", {})
        r.ok(g.get("path") == want and g.get("port") in ("metrics", port), f"{probe} GETs {want} on the metrics port", g)
    grace = pod["spec"].get("terminationGracePeriodSeconds", 30) * 1000
    drain = eff["shutdown"]["drain_timeout_ms"]
    r.ok(grace >= drain + 5000,
         f"terminationGracePeriodSeconds ({grace / 1000:g} s) exceeds shutdown.drain_timeout_ms "
         f"({drain / 1000:g} s) by at least 5 s")
    res = c.get("resources", {})
    r.ok(res.get("requests", {}).get("cpu") and res.get("requests", {}).get("memory") and res.get("limits", {}).get("memory"),
         "cpu and memory requests and a memory limit are set", res)
    sc = {**pod["spec"].get("securityContext", {}), **c.get("securityContext", {})}
    r.ok(sc.get("runAsNonRoot") is True and sc.get("runAsUser") == image_uid(),
         f"runs as non-root uid {image_uid()} (the image's USER)", sc)
    r.ok("replicas" not in dep["spec"], "the Deployment leaves `replicas` to the ScaledObject")
    strat = dep["spec"].get("strategy", {}).get("rollingUpdate", {})
    r.ok(strat.get("maxSurge") in (0, "0", "0%"), "rolling updates never surge past the current count", strat)

    # Service, ServiceMonitor, PDB select the pods; job label is `warta`.
    r.ok(labels_match(svc["spec"].get("selector", {}), pod_labels), "the Service selects the pods")
    sport = next((p for p in svc["spec"].get("ports", []) if p.get("name") == "metrics"), {})
    r.ok(sport.get("targetPort") in ("metrics", port), "the Service's port `metrics` targets the metrics port", sport)
    for sm in by_kind.get("ServiceMonitor", []):
        r.ok(labels_match(sm["spec"]["selector"].get("matchLabels", {}), svc["metadata"].get("labels", {})),
             "the ServiceMonitor selects the Service")
        eps = sm["spec"].get("endpoints", [])
        r.ok(eps and all(e.get("port") == "metrics" and e.get("path", "/metrics") == "/metrics" for e in eps),
             "the ServiceMonitor scrapes port `metrics` at /metrics", eps)
        job = svc["metadata"]["labels"].get(sm["spec"]["jobLabel"]) if sm["spec"].get("jobLabel") else svc["metadata"]["name"]
        r.ok(job == "warta", "the Prometheus job name is `warta`", job)
    for pdb in by_kind.get("PodDisruptionBudget", []):
        r.ok(labels_match(pdb["spec"]["selector"].get("matchLabels", {}), pod_labels), "the PodDisruptionBudget selects the pods")

    # KEDA: the Deployment, warta's group and topic, at most one pod per partition.
    partitions = {t: v["partitions"] for s in load_compose()["services"].values() for t, v in topics_created(s).items()}
    for so in by_kind.get("ScaledObject", []):
        ref = so["spec"]["scaleTargetRef"]
        r.ok(ref["name"] == dep["metadata"]["name"] and ref.get("kind", "Deployment") == "Deployment",
             "the ScaledObject scales the Deployment")
        trig = [t for t in so["spec"]["triggers"] if t["type"] == "kafka"]
        r.ok(len(trig) == 1, "the ScaledObject has one kafka trigger")
        if trig:
            md = trig[0]["metadata"]
            r.ok(md.get("consumerGroup") == eff["kafka"]["group_id"], "kafka trigger consumerGroup = kafka.group_id")
            r.ok([md.get("topic")] == eff["topics"]["input"], "kafka trigger topic = topics.input", md.get("topic"))
            r.ok(md.get("bootstrapServers") == eff["kafka"]["brokers"], "kafka trigger bootstrapServers = kafka.brokers",
                 f"{md.get('bootstrapServers')} != {eff['kafka']['brokers']}")
            r.ok(md.get("allowIdleConsumers", "false") == "false", "kafka trigger never scales past the partitions")
        want = sum(partitions.get(t, 0) for t in eff["topics"]["input"])
        r.ok(so["spec"].get("maxReplicaCount") == want,
             f"maxReplicaCount ({so['spec'].get('maxReplicaCount')}) = partitions of {eff['topics']['input']} "
             f"in the compose topic initializer ({want})")
        r.ok(1 <= so["spec"].get("minReplicaCount", 0) <= so["spec"].get("maxReplicaCount", 0),
             "1 <= minReplicaCount <= maxReplicaCount")
    return r.finish("kubernetes")


# --- image --------------------------------------------------------------------


def dockerfile_instructions(text: str) -> list[dict]:
    """Stages: [{"from": ..., "name": ..., "body": [(INSTR, args), ...]}]."""
    logical, cur = [], ""
    for line in text.splitlines():
        if not cur and (not line.strip() or line.lstrip().startswith("#")):
            continue
        if cur and line.lstrip().startswith("#"):
            continue
        if line.rstrip().endswith("\\"):
            cur += line.rstrip()[:-1] + " "
        else:
            logical.append(cur + line)
            cur = ""
    stages = []
    for ln in logical:
        instr, _, arg = ln.strip().partition(" ")
        instr = instr.upper()
        if instr == "FROM":
            m = re.match(r"(\S+)(?:\s+AS\s+(\S+))?", arg.strip(), re.I)
            stages.append({"from": m.group(1), "name": m.group(2), "body": []})
        elif stages:
            stages[-1]["body"].append((instr, arg.strip()))
    return stages


def image_uid() -> int | None:
    users = [a for i, a in dockerfile_instructions(DOCKERFILE.read_text())[-1]["body"] if i == "USER"]
    try:
        return int(users[-1].split(":")[0]) if users else None
    except ValueError:
        return None


def healthcheck_cmd() -> list[str]:
    hc = [a for i, a in dockerfile_instructions(DOCKERFILE.read_text())[-1]["body"] if i == "HEALTHCHECK"]
    if not hc:
        return []
    m = re.search(r"\bCMD\s+(\[.*\])\s*$", hc[-1])
    return json.loads(m.group(1)) if m else []


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def dockerignore_context() -> set[str]:
    """The files the build context holds: the repository's files (git's view)
    less what .dockerignore excludes (simple patterns: no ** or !)."""
    files = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT, capture_output=True, text=True, check=True,
    ).stdout.split()
    pats = [p.strip().strip("/") for p in (ROOT / ".dockerignore").read_text().splitlines()
            if p.strip() and not p.startswith("#")]
    from fnmatch import fnmatchcase

    def ignored(f: str) -> bool:
        parts = f.split("/")
        prefixes = ["/".join(parts[: i + 1]) for i in range(len(parts))]
        return any(fnmatchcase(p, pat) for pat in pats for p in prefixes)

    return {f for f in files if (ROOT / f).is_file() and not ignored(f)}


def image_checks(warta: str) -> int:
    r = Report()
    stages = dockerfile_instructions(DOCKERFILE.read_text())
    r.ok(len(stages) >= 2, "the Dockerfile has a build stage and a runtime stage", [s["from"] for s in stages])
    build, runtime = stages[0], stages[-1]
    runs = [a for i, a in build["body"] if i == "RUN"]
    r.ok(any(re.search(r"(^|\s)cargo build --release --locked(\s|$)", a) for a in runs),
         "the build stage runs `cargo build --release --locked`, as CI does")
    r.ok(runtime["from"].startswith("debian:") and "slim" in runtime["from"], "the runtime image is Debian slim", runtime["from"])
    copies = [a for i, a in runtime["body"] if i in ("COPY", "ADD")]
    dests = sorted(a.split()[-1] for a in copies)
    r.ok(len(copies) == 2 and dests == sorted(["/usr/local/bin/warta", IMAGE_CONFIG]),
         f"the runtime stage copies only the binary and the default config ({IMAGE_CONFIG})", copies)
    r.ok(any(re.search(r"(\S*/)?config/default\.toml\s+" + re.escape(IMAGE_CONFIG), a) for a in copies),
         f"{IMAGE_CONFIG} in the image is config/default.toml")
    r.ok(image_uid() not in (None, 0), "the runtime stage runs as a numeric non-root USER", image_uid())
    entry = [json.loads(a) for i, a in runtime["body"] if i == "ENTRYPOINT"]
    r.ok(entry and entry[-1] == ["warta"], "ENTRYPOINT is warta", entry)
    cmd = image_cmd()
    r.ok(cmd[:1] == ["run"] and config_arg(cmd) == IMAGE_CONFIG, f"CMD runs `warta run --config {IMAGE_CONFIG}`", cmd)
    defaults = check_config(r, warta, "the image's default config", ROOT / "config" / "default.toml", {})
    deployed = check_config(r, warta, "deploy/warta.toml", DEPLOY_TOML, {})

    hc = healthcheck_cmd()
    joined = " ".join(hc)
    r.ok("/healthz" in joined, "HEALTHCHECK (exec form) asks /healthz", hc)
    for label, eff in (("config/default.toml", defaults), ("deploy/warta.toml", deployed)):
        if eff:
            p = port_of(eff["metrics"]["listen"])
            r.ok(re.search(rf"/dev/tcp/[^/]+/{p}\b", joined), f"HEALTHCHECK uses {label}'s metrics port {p}")

    # The HEALTHCHECK command itself, against a real `warta run` (no broker: it
    # is alive but not ready) and against a port where nothing listens.
    if hc and defaults:
        port, dead = free_port(), free_port()
        dport = port_of(defaults["metrics"]["listen"])
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "WARTA__KAFKA__BROKERS": f"127.0.0.1:{dead}",
            "WARTA__METRICS__LISTEN": f"127.0.0.1:{port}",
            "WARTA__LOG__LEVEL": "off",
        }
        proc = subprocess.Popen([warta, "run"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            ok, deadline = False, time.monotonic() + 20
            cmd_live = [a.replace(f"/{dport}", f"/{port}") for a in hc]
            while not ok and time.monotonic() < deadline and proc.poll() is None:
                ok = subprocess.run(cmd_live, capture_output=True, timeout=10).returncode == 0
                if not ok:
                    time.sleep(0.5)
            r.ok(ok, "HEALTHCHECK passes against `warta run` (broker down: alive, not ready)")
            cmd_dead = [a.replace(f"/{dport}", f"/{dead}") for a in hc]
            r.ok(subprocess.run(cmd_dead, capture_output=True, timeout=10).returncode != 0,
                 "HEALTHCHECK fails where nothing listens")
        finally:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()

    # .dockerignore keeps everything the build reads.
    ctx = dockerignore_context()
    needed = {"Cargo.toml", "Cargo.lock"}
    for f in ROOT.glob("src/**/*.rs"):
        needed.add(rel(f))
        for m in re.finditer(r'include_(?:str|bytes)!\(\s*"([^"]+)"\s*\)', f.read_text()):
            needed.add(rel((f.parent / m.group(1)).resolve()))
    # The workspace member's manifest and targets: cargo loads them all.
    needed |= {rel(f) for f in ROOT.glob("lab/**/*") if f.is_file() and "peers" not in f.parts}
    missing = sorted(n for n in needed if (ROOT / n).exists() and n not in ctx)
    r.ok(not missing, "the build context (.dockerignore) keeps Cargo.*, src/, lab/ and every include_str! file",
         f"excluded: {missing}")
    r.ok(not any(f.startswith(("target/", ".git/")) for f in ctx), "the build context leaves out target/ and .git/")
    return r.finish("image")


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("what", choices=["compose", "compose-schema", "kubernetes", "image"])
    ap.add_argument("schema", nargs="?")
    ap.add_argument("--warta", default=str(ROOT / "target" / "release" / "warta"))
    a = ap.parse_args()
    if a.what == "compose-schema":
        return compose_schema(a.schema)
    return {"compose": compose_checks, "kubernetes": kubernetes_checks, "image": image_checks}[a.what](a.warta)


if __name__ == "__main__":
    sys.exit(main())
