"""The published endpoint contract (ml/endpoint_schema.py) against the endpoint's own checks.

The OpenAPI document is generated from a real model's InputContract; its request schema
must accept the README's worked example (the test of record, read from README.md) and
refuse each bad case the endpoint refuses, and list exactly `accepted_fields(contract)`.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import jsonschema
import pytest

from ml.endpoint_schema import BANDS, SCHEMA_FORMAT, endpoint_schema, schema_for
from ml.model import BANDS as MODEL_BANDS
from ml.pyfunc_model import contract_of, example_input
from ml.scoring_input import accepted_fields, check_records
from tests.ml.model_fixture import trained_model

README = Path(__file__).resolve().parents[2] / "README.md"
MAX_ROWS = 1000


def readme_example() -> tuple[dict, dict]:
    """The request and the response of README's "Worked example:" (curl's -d body)."""
    text = README.read_text()
    after = text.split("Worked example:", 1)[1]
    bash = re.search(r"```bash\n(.*?)```", after, re.S).group(1)
    request = json.loads(bash.split("-d '", 1)[1].rsplit("'", 1)[0])
    response = json.loads(re.search(r"```json\n(.*?)```", after, re.S).group(1))
    return request, response


@pytest.fixture(scope="module")
def contract(feature_store):
    return contract_of(trained_model(feature_store))


@pytest.fixture(scope="module")
def document(contract):
    return endpoint_schema(contract, MAX_ROWS, "7")


def _validator(document, name: str) -> jsonschema.Draft202012Validator:
    schema = schema_for(document, name)
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


def _valid(document, body, name: str = "Request") -> bool:
    return _validator(document, name).is_valid(body)


def test_the_document_is_versioned_openapi_31(document):
    assert document["openapi"] == "3.1.0"
    assert document["info"]["version"] == "7"
    assert document["info"]["x-schema-format"] == SCHEMA_FORMAT
    assert BANDS == MODEL_BANDS


def test_the_schema_lists_exactly_the_accepted_fields(document, contract):
    row = document["components"]["schemas"]["Row"]
    assert list(row["properties"]) == accepted_fields(contract)
    assert row["additionalProperties"] is False
    assert document["x-accepted-fields"] == accepted_fields(contract)
    assert not any(name.endswith("_adj") for name in row["properties"])


def test_the_readme_worked_example_validates_request_and_response(document, contract):
    request, response = readme_example()
    assert check_records(request["dataframe_records"], contract, MAX_ROWS) == []
    errors = list(_validator(document, "Request").iter_errors(request))
    assert errors == [], [e.message for e in errors]
    assert _valid(document, response, "Response")


def test_the_example_rows_the_server_prints_validate(document, contract):
    rows = [r.dropna().to_dict() for _, r in example_input(contract).iterrows()]
    assert _valid(document, {"dataframe_records": rows})


def _bad_cases(contract) -> dict[str, list[dict]]:
    request, _ = readme_example()
    good = request["dataframe_records"][0]
    score = next(n for n in accepted_fields(contract) if n.startswith("interviewer_"))

    def with_(**changes):
        return [{**good, **changes}]

    adjusted = next(iter(contract.adjusted), f"{score}_adj")
    required = contract.accepted.required.get(good["role_family"], ())
    return {
        "misspelt field": with_(key_kpi_scenario_answerd_fully_share=1.0),
        "protected attribute": with_(gender="f"),
        "number as a string": with_(**{score: "8"}),
        "boolean score": with_(**{score: True}),
        "derived _adj field": with_(**{adjusted: 7.0}),
        "out-of-range score": with_(**{score: 11.0}),
        "unknown role family": with_(role_family="astronaut"),
        "no role family": [{k: v for k, v in good.items() if k != "role_family"}],
        **({"missing required field": [{k: v for k, v in good.items()
                                         if k != required[0]}],
            "required field null": with_(**{required[0]: None})} if required else {}),
        "1,001 rows": [good] * (MAX_ROWS + 1),
    }


@pytest.mark.parametrize("case", ["misspelt field", "protected attribute",
                                  "number as a string", "boolean score", "derived _adj field",
                                  "out-of-range score", "unknown role family",
                                  "no role family", "missing required field",
                                  "required field null", "1,001 rows"])
def test_the_schema_refuses_what_the_endpoint_refuses(document, contract, case):
    """Each bad case is refused by the endpoint's checks and by the published schema alike
    (Infinity is not JSON: no schema can be asked about it)."""
    cases = _bad_cases(contract)
    if case not in cases:
        pytest.skip("the example's family requires no field")
    rows = cases[case]
    assert check_records(rows, contract, MAX_ROWS), "the endpoint accepts it"
    assert not _valid(document, {"dataframe_records": rows})


def test_an_empty_batch_or_another_body_shape_is_refused(document):
    assert not _valid(document, {"dataframe_records": []})
    assert not _valid(document, {"records": [{"role_family": "sales"}]})


def test_the_refusal_body_validates(document, contract):
    from ml.scoring_app import error_body

    request, _ = readme_example()
    rows = [{**request["dataframe_records"][0], "gender": "f"}]
    body = json.loads(json.dumps(error_body("INVALID_PARAMETER_VALUE", "1 of 1 rows",
                                            check_records(rows, contract, MAX_ROWS))))
    assert body["error_count"] == 1
    assert _valid(document, body, "Error")
    assert not _valid(document, {"error_code": "X"}, "Error")


def _variants(spec) -> list:
    if spec.kind == "category":
        return [spec.categories[0], "not-a-level", 1, True, None]
    low = 0.0 if spec.low is None else spec.low
    values = [low, low - 0.5, "8", True, None, [1], {"v": 1}]
    if spec.high is not None:
        values += [spec.high, spec.high + 0.5]
    if spec.kind == "count":
        values += [low + 1.5, low + 2.0]
    return values


def test_the_schema_and_the_endpoint_checks_agree_field_by_field(document, contract):
    """For every accepted field and a spread of values (in range, out of range, wrong type,
    null, not whole), the schema accepts a row exactly when `check_records` does."""
    base = example_input(contract).iloc[0].dropna().to_dict()
    validator = _validator(document, "Request")
    disagree = []
    for name, spec in contract.accepted.specs.items():
        for value in _variants(spec):
            rows = [{**base, name: value}]
            endpoint_ok = not check_records(rows, contract, MAX_ROWS)
            schema_ok = validator.is_valid({"dataframe_records": rows})
            if endpoint_ok != schema_ok:
                disagree.append((name, repr(value), endpoint_ok, schema_ok))
    assert disagree == []
