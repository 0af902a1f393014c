"""The PrometheusRule custom resource is the rule files, rendered, and valid against the operator's CRD."""

from __future__ import annotations

import importlib.util
import json

import jsonschema
import yaml

from tests.deploy.monitoring import support


def _renderer():
    spec = importlib.util.spec_from_file_location(
        "render_prometheusrule", support.MONITORING_DIR / "render_prometheusrule.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_prometheusrule_is_rendered_from_the_rule_files() -> None:
    assert support.PROMETHEUSRULE.read_text() == _renderer().render(), (
        "deploy/k8s/components/monitoring/hyperpage-prometheusrule.yaml is stale: "
        "run python3 deploy/monitoring/render_prometheusrule.py"
    )


def test_prometheusrule_groups_equal_the_rule_files() -> None:
    resource = yaml.safe_load(support.PROMETHEUSRULE.read_text())
    assert resource["spec"]["groups"] == support.rule_groups()


def _crd_validator() -> jsonschema.protocols.Validator:
    # No check_schema(): the CRD carries Go regular expressions ("^(?i)(abort|warn)?$") that Python's re
    # rejects as patterns of the schema itself; they are only compiled if a resource uses that field.
    schema_path = support.shared_dir() / "schemas/crds/monitoring.coreos.com/prometheusrule_v1.json"
    schema = json.loads(schema_path.read_text())
    return jsonschema.validators.validator_for(schema)(schema)


def test_prometheusrule_validates_against_the_crd_schema() -> None:
    resource = yaml.safe_load(support.PROMETHEUSRULE.read_text())
    _crd_validator().validate(resource)
    assert resource["apiVersion"] == "monitoring.coreos.com/v1" and resource["kind"] == "PrometheusRule"


def test_crd_schema_rejects_a_broken_rule() -> None:
    """The schema check has teeth: a rule without expr must not pass."""
    resource = yaml.safe_load(support.PROMETHEUSRULE.read_text())
    del resource["spec"]["groups"][0]["rules"][0]["expr"]
    try:
        _crd_validator().validate(resource)
    except jsonschema.ValidationError:
        return
    raise AssertionError("a rule without expr validated")
