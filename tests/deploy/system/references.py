"""What a rendered object names, and what exists to answer it: objects in the same rendering (after
Kustomize's name hashing), objects of the platform layer, and objects an operator creates from a custom
resource (each rule below cites the operator's documentation)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

Ref = tuple[str, str, str]  # (kind, namespace, name); namespace "" for cluster-scoped kinds


def _pod_refs(spec: dict[str, Any], ns: str) -> Iterator[Ref]:
    if spec.get("serviceAccountName"):
        yield ("ServiceAccount", ns, spec["serviceAccountName"])
    if spec.get("priorityClassName"):
        yield ("PriorityClass", "", spec["priorityClassName"])
    for container in spec.get("initContainers", []) + spec.get("containers", []):
        for source in container.get("envFrom", []):
            for key, kind in (("configMapRef", "ConfigMap"), ("secretRef", "Secret")):
                if key in source and not source[key].get("optional"):
                    yield (kind, ns, source[key]["name"])
        for item in container.get("env", []):
            for key, kind in (("configMapKeyRef", "ConfigMap"), ("secretKeyRef", "Secret")):
                ref = item.get("valueFrom", {}).get(key)
                if ref and not ref.get("optional"):
                    yield (kind, ns, ref["name"])
    for volume in spec.get("volumes", []):
        if "configMap" in volume and not volume["configMap"].get("optional"):
            yield ("ConfigMap", ns, volume["configMap"]["name"])
        if "secret" in volume and not volume["secret"].get("optional"):
            yield ("Secret", ns, volume["secret"]["secretName"])
        if "persistentVolumeClaim" in volume:
            yield ("PersistentVolumeClaim", ns, volume["persistentVolumeClaim"]["claimName"])
        for source in volume.get("projected", {}).get("sources", []):
            for key, kind in (("configMap", "ConfigMap"), ("secret", "Secret")):
                if key in source and not source[key].get("optional"):
                    yield (kind, ns, source[key]["name"])


def references(doc: dict[str, Any]) -> Iterator[Ref]:
    """Every (kind, namespace, name) one object needs to exist."""
    kind, ns, spec = doc["kind"], doc["metadata"].get("namespace", ""), doc.get("spec") or {}
    if kind in ("Deployment", "StatefulSet", "Job", "DaemonSet"):
        yield from _pod_refs(spec["template"]["spec"], ns)
    elif kind == "CronJob":
        yield from _pod_refs(spec["jobTemplate"]["spec"]["template"]["spec"], ns)
    elif kind == "PersistentVolumeClaim" and spec.get("storageClassName"):
        yield ("StorageClass", "", spec["storageClassName"])
    elif kind == "HorizontalPodAutoscaler":
        yield (spec["scaleTargetRef"]["kind"], ns, spec["scaleTargetRef"]["name"])
    elif kind == "Ingress":
        for rule in spec.get("rules", []):
            for path in rule.get("http", {}).get("paths", []):
                yield ("Service", ns, path["backend"]["service"]["name"])
        for tls in spec.get("tls", []):
            yield ("Secret", ns, tls["secretName"])
    elif kind == "VolumeSnapshot":
        yield ("PersistentVolumeClaim", ns, spec["source"]["persistentVolumeClaimName"])
        yield ("VolumeSnapshotClass", "", spec["volumeSnapshotClassName"])
    elif kind == "ExternalSecret":
        yield ("SecretStore", ns, spec["secretStoreRef"]["name"])
    elif kind in ("Pooler", "ScheduledBackup", "Backup"):
        yield ("Cluster", ns, spec["cluster"]["name"])
    elif kind == "Cluster":
        if spec.get("storage", {}).get("storageClass"):
            yield ("StorageClass", "", spec["storage"]["storageClass"])
        secret = spec.get("bootstrap", {}).get("initdb", {}).get("secret")
        if secret:
            yield ("Secret", ns, secret["name"])
        for plugin in spec.get("plugins", []):
            store = plugin.get("parameters", {}).get("barmanObjectName")
            if store:
                yield ("ObjectStore", ns, store)
    elif kind == "VirtualService":
        for route in spec.get("http", []):
            for dest in route.get("route", []):
                host = dest["destination"]["host"]
                if "." not in host:
                    yield ("Service", ns, host)


def provided(doc: dict[str, Any]) -> Iterator[Ref]:
    """Objects that exist because this object does: itself, and what its operator creates from it."""
    kind, ns, name = doc["kind"], doc["metadata"].get("namespace", ""), doc["metadata"]["name"]
    spec = doc.get("spec") or {}
    yield (kind, ns, name)
    if kind == "ExternalSecret":
        # ESO docs, ExternalSecret spec.target.name: "defaults to the .metadata.name of the ExternalSecret".
        yield ("Secret", ns, spec.get("target", {}).get("name", name))
    elif kind == "Cluster":
        # CloudNativePG docs, "Service management" and "Connecting from an application": Services
        # <cluster>-rw/-ro/-r, and the application Secret <cluster>-app unless initdb names its own secret.
        for suffix in ("rw", "ro", "r"):
            yield ("Service", ns, f"{name}-{suffix}")
        if not spec.get("bootstrap", {}).get("initdb", {}).get("secret"):
            yield ("Secret", ns, f"{name}-app")
        # CloudNativePG docs, "Storage": each instance's PGDATA claim is named after the instance,
        # <cluster>-<serial>, serials counting from 1 at bootstrap.
        for serial in range(1, spec.get("instances", 1) + 1):
            yield ("PersistentVolumeClaim", ns, f"{name}-{serial}")
    elif kind == "Pooler":
        yield ("Service", ns, name)  # CloudNativePG docs, "Connection pooling": a Service named after the Pooler
    elif kind == "Certificate":
        yield ("Secret", ns, spec["secretName"])
    elif kind == "Ingress" and (doc["metadata"].get("annotations") or {}).get("cert-manager.io/cluster-issuer"):
        # cert-manager docs, "Securing Ingress Resources": ingress-shim makes a Certificate for each tls entry.
        for tls in spec.get("tls", []):
            yield ("Secret", ns, tls["secretName"])
    elif kind in ("Deployment", "StatefulSet"):
        for claim in spec.get("volumeClaimTemplates", []):
            # Kubernetes docs, StatefulSet "Stable Storage": PVC <template>-<statefulset>-<ordinal>.
            for ordinal in range(spec.get("replicas", 1)):
                yield ("PersistentVolumeClaim", ns, f"{claim['metadata']['name']}-{name}-{ordinal}")


def index(docs: list[dict[str, Any]]) -> set[Ref]:
    """Everything the documents provide, each name also without its Kustomize hash suffix."""
    found: set[Ref] = set()
    for doc in docs:
        for kind, ns, name in provided(doc):
            found.add((kind, ns, name))
    return found


def resolves(ref: Ref, available: set[Ref]) -> bool:
    """A reference resolves to an object of that kind, namespace and exact (hashed) name."""
    return ref in available
