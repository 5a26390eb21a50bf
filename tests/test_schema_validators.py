"""The one validator per published schema (``tests/conftest.py``) accepts records and refuses broken ones."""

from __future__ import annotations

import pytest

from affidavit.artefact import Artefact
from affidavit.collectors import collect_document
from affidavit.collectors.interface import CollectOptions
from tests.conftest import CORPUS, NOW, record_validator, results_validator, schema_validator, validate_record
from tests.model.runs import sample_run


def test_each_schema_has_one_validator() -> None:
    """Every caller gets the same validator object: the schema is read and checked once."""
    assert record_validator() is schema_validator("evidence.v1")
    assert results_validator() is schema_validator("results.v1")


def test_a_real_record_passes_and_a_broken_one_does_not() -> None:
    """A corpus record is valid; the same record with an unknown kind or no id is refused, naming the field."""
    path = CORPUS / "in-toto" / "grype-alpine.att.json"
    record = collect_document(Artefact(path.name, path.read_bytes()), CollectOptions(now=NOW))
    document = validate_record(record)
    assert document["id"] == record.id
    with pytest.raises(AssertionError, match="kind"):
        validate_record(dict(document, kind="nonsense"))
    without_id = {k: v for k, v in document.items() if k != "id"}
    with pytest.raises(AssertionError, match="'id' is a required property"):
        validate_record(without_id)


def test_results_validator_refuses_an_unknown_decision() -> None:
    """The results validator accepts a Run's JSON and refuses a decision the contract does not know."""
    document = sample_run().to_json()
    results_validator().validate(document)
    assert list(results_validator().iter_errors(dict(document, decision="MAYBE")))
