"""Attacks through the evidence folder itself (issue 9, finding 6).

Whoever can write into the folder the gate reads (a build step, a dependency's post-install
script, a careless copy) tried to make the gate read files outside it, quote secrets back in its
messages, hang, or turn a GO release into exit 3 with a stray file. Each test plants one thing in
a copy of a demo release and asserts what the gate must do: the release keeps its decision (or the
run is refused as incomplete, exit 3), what was left out is listed with the reason, and nothing
planted reaches stdout, stderr, the bundle folder or the archive.

The listing of what was not read is ``Collection.skipped`` (``collect_paths``); ``affidavit
collect`` prints it on stderr. The gate's record of it (results.json, the report) is the
pipeline's to wire; those assertions live with it.
"""

from __future__ import annotations

import json
import os
import socket
import threading
from pathlib import Path

import pytest
from click.testing import CliRunner

from affidavit import artefact
from affidavit.artefact import Artefact
from affidavit.cli import main
from affidavit.collectors import Action, Collection, CollectOptions, collect_paths
from affidavit.collectors.folder import MAX_DEPTH
from affidavit.errors import InputError
from tests.attacks.support import DEMO, NOW, GateResult, gate, release

# An AWS access key pair and a database password in the shapes AWS and libpq document
# (https://docs.aws.amazon.com/IAM/latest/UserGuide/id_credentials_access-keys.html,
# https://www.postgresql.org/docs/current/libpq-connect.html#LIBPQ-CONNSTRING-URIS).
ACCESS_KEY = "AKIAQ3EGRT7PLANTEDX"
SECRET_KEY = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYPLANTEDKEY"
DB_PASSWORD = "Pl4nted-DB-pa55word"
DB_URL = f"postgres://shop:{DB_PASSWORD}@db.internal:5432/shop"
PLANTED = (ACCESS_KEY, SECRET_KEY, DB_PASSWORD)

OPTIONS = CollectOptions(now=NOW)


def _assert_nothing_planted(result: GateResult, *more: str) -> None:
    everything = result.every_output()
    for secret in (*PLANTED, *more):
        assert secret not in everything, secret


def _collect(folder: Path, *exclude: str) -> Collection:
    return collect_paths([folder], OPTIONS, exclude=exclude)


def _listed(collection: Collection) -> dict[str, tuple[Action, str]]:
    return {Path(s.path).name: (s.action, s.reason) for s in collection.skipped}


def _collect_cli(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, ["collect", "--now", NOW, *args])
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    return result.exit_code, result.stdout, result.stderr


def _outside_sbom(tmp_path: Path) -> Path:
    """A CycloneDX SBOM outside the evidence folder whose build properties carry credentials
    (metadata.properties: https://cyclonedx.org/docs/1.5/json/#metadata_properties)."""
    sbom = json.loads((DEMO / "no-go" / "sbom.cdx.json").read_text())
    sbom["metadata"]["properties"] = [
        {"name": "build:env:AWS_ACCESS_KEY_ID", "value": ACCESS_KEY},
        {"name": "build:env:AWS_SECRET_ACCESS_KEY", "value": SECRET_KEY},
        {"name": "build:env:DATABASE_URL", "value": DB_URL},
    ]
    outside = tmp_path / "ci-home" / "secrets"
    outside.mkdir(parents=True)
    target = outside / "build-sbom.cdx.json"
    target.write_text(json.dumps(sbom))
    return target


# --- links --------------------------------------------------------------------------------------


def test_a_link_to_a_file_outside_the_folder_is_refused_unread(tmp_path: Path) -> None:
    # It used to be followed: the SBOM behind it was read as evidence and copied raw, credentials
    # and all, into the bundle folder and the archive.
    target = _outside_sbom(tmp_path)
    evidence = release(tmp_path)
    (evidence / "sbom-build.cdx.json").symlink_to(target)
    result = gate(tmp_path, evidence)
    assert result.exit_code == 3  # refused: the run is incomplete, never GO
    assert "sbom-build.cdx.json: is a link to outside the evidence folder" in result.stderr
    assert result.results["decision"] == "INCOMPLETE"
    _assert_nothing_planted(result, str(target.parent))
    listed = _listed(_collect(evidence))
    assert listed["sbom-build.cdx.json"] == (Action.REFUSED, "a link to outside the evidence folder")


def test_a_link_to_etc_passwd_is_never_quoted(tmp_path: Path) -> None:
    # It used to be read and refused as an unknown format "starting with" its first line.
    first_line = Path("/etc/passwd").read_text().splitlines()[0]
    evidence = release(tmp_path)
    (evidence / "users.txt").symlink_to("/etc/passwd")
    result = gate(tmp_path, evidence)
    assert result.exit_code == 3
    assert "users.txt: is a link to outside the evidence folder" in result.stderr
    _assert_nothing_planted(result, first_line, first_line[:20], "/etc/passwd")


def test_a_linked_folder_outside_is_refused_unread(tmp_path: Path) -> None:
    # A link to a folder used to be dropped without a word; it is neither walked nor silent.
    target = _outside_sbom(tmp_path)
    evidence = release(tmp_path)
    (evidence / "more").symlink_to(target.parent, target_is_directory=True)
    result = gate(tmp_path, evidence)
    assert result.exit_code == 3
    assert "more: is a link to outside the evidence folder" in result.stderr
    _assert_nothing_planted(result, str(target.parent))
    assert _listed(_collect(evidence))["more"] == (Action.REFUSED, "a link to outside the evidence folder")


def test_links_inside_the_folder_are_not_followed_and_nothing_is_read_twice(tmp_path: Path) -> None:
    evidence = release(tmp_path, "go")
    (evidence / "latest-sbom.json").symlink_to("sbom.cdx.json")  # to a file read under its own name
    (evidence / "again").symlink_to(".", target_is_directory=True)  # a loop through the folder
    (evidence / "loop").symlink_to("loop")  # a link to itself
    (evidence / "gone.json").symlink_to("deleted.json")  # dangling
    collection = _collect(evidence)
    demo_files = len(list((DEMO / "go").iterdir()))
    assert len(collection.evidence) == demo_files  # each demo artefact once
    assert len({e.id for e in collection.evidence}) == demo_files
    listed = _listed(collection)
    assert listed["latest-sbom.json"][0] is Action.SKIPPED
    assert listed["again"][0] is Action.SKIPPED
    assert "inside the evidence folder" in listed["again"][1]
    # a link that leads nowhere was meant to be something: refused, so the run is incomplete
    assert listed["loop"] == (Action.REFUSED, "a link that leads nowhere (a loop, or a missing target)")
    assert listed["gone.json"][0] is Action.REFUSED
    assert {Path(e.source).name for e in collection.errors} == {"loop", "gone.json"}


@pytest.mark.parametrize("swap", ["link", "fifo"])
def test_a_file_swapped_between_check_and_open_is_not_followed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, swap: str
) -> None:
    # The race: the walk and the read's lstat saw a regular file, then the attacker put a link
    # (or a FIFO) in its place just before the open. O_NOFOLLOW refuses the link; O_NONBLOCK opens
    # the FIFO without waiting and the check on the open descriptor refuses it.
    target = _outside_sbom(tmp_path)
    evidence = tmp_path / "evidence"
    evidence.mkdir()
    planted = evidence / "sbom.cdx.json"
    planted.write_text("{}")
    real_open = os.open

    def swap_then_open(path: str, flags: int, *args: object, **kwargs: object) -> int:
        if os.fspath(path) == planted.name and not planted.is_symlink() and planted.is_file():
            planted.unlink()
            if swap == "link":
                planted.symlink_to(target)
            else:
                os.mkfifo(planted)
        return real_open(path, flags, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(artefact.os, "open", swap_then_open)
    collection = _collect(evidence)
    monkeypatch.undo()
    assert not collection.evidence
    [error] = collection.errors
    assert error.source == str(planted)
    assert "changed while it was being read" in error.message
    for secret in PLANTED:
        assert secret not in error.diagnostics()


def test_artefact_from_path_never_follows_a_link(tmp_path: Path) -> None:
    target = _outside_sbom(tmp_path)
    link = tmp_path / "link.json"
    link.symlink_to(target)
    with pytest.raises(InputError, match="is a symbolic link, and links are not followed here") as refused:
        Artefact.from_path(link)
    assert ACCESS_KEY not in refused.value.diagnostics()


def test_a_link_named_on_the_command_line_is_read(tmp_path: Path) -> None:
    # The person running the command chose the path: a link they name is theirs to follow.
    link = tmp_path / "named-sbom.json"
    link.symlink_to(DEMO / "go" / "sbom.cdx.json")
    collection = collect_paths([link], OPTIONS)
    assert [e.kind.value for e in collection.evidence] == ["sbom"]
    assert not collection.errors and not collection.skipped


# --- special files ------------------------------------------------------------------------------


def _gate_within(seconds: float, tmp_path: Path, evidence: Path, fifo: Path) -> GateResult:
    """The gate, failing the test (not hanging it) when it blocks on ``fifo``."""
    box: dict[str, GateResult] = {}
    worker = threading.Thread(target=lambda: box.update(result=gate(tmp_path, evidence)), daemon=True)
    worker.start()
    worker.join(seconds)
    if worker.is_alive():
        # release the open() the gate is stuck in, so that the thread ends with the test
        os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))
        worker.join(30)
        pytest.fail(f"the gate blocked on the FIFO {fifo.name}")
    return box["result"]


def test_a_fifo_in_the_folder_is_refused_without_blocking(tmp_path: Path) -> None:
    evidence = release(tmp_path)
    fifo = evidence / "trivy-image-2.json"
    os.mkfifo(fifo)
    result = _gate_within(20, tmp_path, evidence, fifo)
    assert result.exit_code == 3
    assert "trivy-image-2.json: is a named pipe (FIFO), not a regular file" in result.stderr
    assert _listed(_collect(evidence))["trivy-image-2.json"] == (
        Action.REFUSED,
        "a named pipe (FIFO), not a regular file",
    )


def test_a_fifo_named_as_the_evidence_is_refused_without_blocking(tmp_path: Path) -> None:
    # --evidence pointing at a FIFO used to block in read() for ever.
    fifo = tmp_path / "evidence.json"
    os.mkfifo(fifo)
    result = _gate_within(20, tmp_path, fifo, fifo)
    assert result.exit_code == 3
    assert "evidence.json: is a named pipe (FIFO), not a regular file" in result.stderr


def test_a_socket_and_a_device_are_refused(tmp_path: Path) -> None:
    evidence = tmp_path / "ev"
    evidence.mkdir()
    server = socket.socket(socket.AF_UNIX)
    try:
        server.bind(str(evidence / "agent.sock"))
        collection = collect_paths([evidence, Path("/dev/null")], OPTIONS)
    finally:
        server.close()
    assert _listed(collection) == {
        "agent.sock": (Action.REFUSED, "a socket, not a regular file"),
        "null": (Action.REFUSED, "a character device, not a regular file"),
    }
    assert sorted(e.detail for e in collection.errors) == [
        "is a character device, not a regular file",
        "is a socket, not a regular file",
    ]


# --- what is not evidence -----------------------------------------------------------------------

# A 1x1 PNG (https://www.w3.org/TR/png/#5PNG-file-signature): signature, IHDR, IDAT, IEND.
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082"
)


def test_readme_and_images_do_not_change_a_go_release(tmp_path: Path) -> None:
    # A README.txt or a .png beside the artefacts used to make the GO release exit 3.
    evidence = release(tmp_path, "go")
    (evidence / "README.txt").write_text("Release 1.4.2 of shop.\n\nArtefacts collected by CI.\n")
    (evidence / "NOTES.md").write_text("# Release notes\n\n- faster checkout\n")
    (evidence / "logo.png").write_bytes(PNG)
    (evidence / "release.pdf").write_bytes(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n%%EOF\n")
    (evidence / "coverage.html").write_text("<!DOCTYPE html>\n<html><body>92%</body></html>\n")
    result = gate(tmp_path, evidence)
    assert result.exit_code == 0, result.stderr
    listed = _listed(_collect(evidence))
    assert listed == {
        "README.txt": (Action.IGNORED, "text in no format affidavit reads (3 lines): not evidence"),
        "NOTES.md": (Action.IGNORED, "text in no format affidavit reads (3 lines): not evidence"),
        "logo.png": (Action.IGNORED, "a PNG image: not evidence"),
        "release.pdf": (Action.IGNORED, "a PDF document: not evidence"),
        "coverage.html": (Action.IGNORED, "an HTML page: not evidence"),
    }
    code, _, stderr = _collect_cli(str(evidence))
    assert code == 0
    assert f"affidavit: ignored: {evidence / 'logo.png'}: a PNG image: not evidence" in stderr


def test_a_credentials_file_is_ignored_and_never_quoted(tmp_path: Path) -> None:
    # A dotenv file (https://github.com/motdotla/dotenv#usage) left in the folder used to be
    # refused "starting with" its first line: the access key, in stderr, results.json and the report.
    evidence = release(tmp_path)
    (evidence / "creds.env").write_text(
        f"AWS_ACCESS_KEY_ID={ACCESS_KEY}\nAWS_SECRET_ACCESS_KEY={SECRET_KEY}\nDATABASE_URL={DB_URL}\n"
    )
    result = gate(tmp_path, evidence)
    assert result.exit_code == 1  # still NO-GO, for the release's own failures
    _assert_nothing_planted(result, "AWS_ACCESS_KEY_ID=")
    assert _listed(_collect(evidence))["creds.env"][0] is Action.IGNORED


def test_hidden_files_and_folders_are_listed(tmp_path: Path) -> None:
    # They used to be skipped without a word.
    evidence = release(tmp_path)
    (evidence / ".env").write_text(f"AWS_SECRET_ACCESS_KEY={SECRET_KEY}\n")
    (evidence / ".cache").mkdir()
    (evidence / ".cache" / "trivy-old.json").write_text("{}")
    result = gate(tmp_path, evidence)
    assert result.exit_code == 1
    _assert_nothing_planted(result)
    listed = _listed(_collect(evidence))
    assert listed == {
        ".env": (Action.SKIPPED, "hidden (its name starts with a dot): not read"),
        ".cache": (Action.SKIPPED, "a hidden folder (its name starts with a dot): not read"),
    }
    code, _, stderr = _collect_cli(str(evidence))
    assert code == 0
    assert f"affidavit: skipped: {evidence / '.env'}: hidden" in stderr


UNKNOWN = {"account": "123456789012", "db_password": DB_PASSWORD, "region": "eu-west-1"}


def test_an_unknown_json_document_is_still_an_error_described_by_shape(tmp_path: Path) -> None:
    # It may be evidence affidavit cannot read: never ignored. Its keys used to be listed.
    evidence = release(tmp_path, "go")
    (evidence / "inventory.json").write_text(json.dumps(UNKNOWN))
    (evidence / "findings.xml").write_text('<?xml version="1.0"?>\n<findings><f id="1"/></findings>\n')
    result = gate(tmp_path, evidence)
    assert result.exit_code == 3
    assert "inventory.json: not a format affidavit knows (a JSON object with 3 keys)" in result.stderr
    assert "findings.xml: not a format affidavit knows (an XML document)" in result.stderr
    _assert_nothing_planted(result, "db_password", "123456789012", "<findings")
    collection = _collect(evidence)
    assert not collection.skipped
    assert {Path(e.source).name for e in collection.errors} == {"inventory.json", "findings.xml"}


def test_exclude_leaves_a_file_out_and_lists_it(tmp_path: Path) -> None:
    evidence = release(tmp_path, "go")
    (evidence / "inventory.json").write_text(json.dumps(UNKNOWN))
    (evidence / "extra").mkdir()
    (evidence / "extra" / "inventory.json").write_text(json.dumps([UNKNOWN]))
    (evidence / "vendor").mkdir()
    (evidence / "vendor" / "report.json").write_text(json.dumps(UNKNOWN))

    collection = _collect(evidence, "inventory.json", "vendor")  # a name at any depth; a folder whole
    assert not collection.errors
    assert len(collection.evidence) == len(list((DEMO / "go").iterdir()))
    assert sorted((s.path, s.action, s.reason) for s in collection.skipped) == [
        (str(evidence / "extra" / "inventory.json"), Action.EXCLUDED, "matches --exclude inventory.json"),
        (str(evidence / "inventory.json"), Action.EXCLUDED, "matches --exclude inventory.json"),
        (str(evidence / "vendor"), Action.EXCLUDED, "a folder that matches --exclude vendor"),
    ]
    # a pattern with a slash is matched against the whole path from the evidence folder
    narrow = _collect(evidence, "extra/*.json", "vendor/*")
    assert [Path(e.source).name for e in narrow.errors] == ["inventory.json"]
    assert Path(narrow.errors[0].source).parent == evidence

    code, _, stderr = _collect_cli(str(evidence), "--exclude", "inventory.json", "--exclude", "vendor")
    assert code == 0, stderr
    assert f"affidavit: excluded: {evidence / 'inventory.json'}: matches --exclude inventory.json" in stderr
    code, _, stderr = _collect_cli(str(evidence))
    assert code == 3


def test_an_empty_exclude_pattern_is_a_usage_error(tmp_path: Path) -> None:
    code, _, stderr = _collect_cli(str(release(tmp_path, "go")), "--exclude", "")
    assert code == 2
    assert "--exclude needs a pattern" in stderr


def test_a_folder_nested_too_deep_is_refused_not_walked(tmp_path: Path) -> None:
    evidence = tmp_path / "ev"
    deep = evidence.joinpath(*["d"] * (MAX_DEPTH + 2))
    deep.mkdir(parents=True)
    (deep / "scan.json").write_text("{}")
    collection = _collect(evidence)
    assert [(s.action, s.reason) for s in collection.skipped] == [
        (Action.REFUSED, f"a folder nested more than {MAX_DEPTH} levels deep")
    ]
    assert Path(collection.skipped[0].path).relative_to(evidence).parts == ("d",) * (MAX_DEPTH + 1)
    assert len(collection.errors) == 1


# Unknown files of every shape, each carrying a marker in every place a message could quote it
# (first line, keys, values, element names): the message gives the shape and never the marker.
MARK = "PLANTEDMARK"
SHAPES = [
    (f'{{"{MARK}": 1, "b": 2}}'.encode(), "a JSON object with 2 keys"),
    (f'[{{"{MARK}": 1}}, 2, 3]'.encode(), "a JSON array of 3 items"),
    (f'"{MARK}"'.encode(), "a JSON string"),
    (b"12.5", "a JSON number"),
    (f'<?xml version="1.0"?>\n<{MARK}><a/></{MARK}>\n'.encode(), "an XML document"),
    (f"<!-- x -->\n<{MARK} attr='1'/>".encode(), "an XML document"),
    (f"<!DOCTYPE html>\n<title>{MARK}</title>".encode(), "an HTML page"),
    (f'<svg xmlns="http://www.w3.org/2000/svg"><text>{MARK}</text></svg>'.encode(), "an SVG image"),
    (f"{MARK}=1\nsecond line\n".encode(), "text of 2 lines"),
    (f"{MARK}\n".encode("utf-16"), "text of 1 line"),
    (b"\x00\x01\x02" + MARK.encode() + b"\xff\xfe", "binary data (16 bytes)"),
    (b"\x1f\x8b\x08\x00" + MARK.encode(), "binary data (15 bytes)"),
    (PNG + MARK.encode(), "a PNG image"),
    (b"\xff\xd8\xff\xe0\x00\x10JFIF" + MARK.encode(), "a JPEG image"),
    (b"GIF89a" + MARK.encode(), "a GIF image"),
    (b"RIFF\x10\x00\x00\x00WEBPVP8 " + MARK.encode(), "a WebP image"),
    (b"%PDF-1.4\n" + MARK.encode(), "a PDF document"),
]


@pytest.mark.parametrize(("content", "shape"), SHAPES, ids=[s for _, s in SHAPES])
def test_a_named_unknown_file_is_described_by_its_shape_never_quoted(
    tmp_path: Path, content: bytes, shape: str
) -> None:
    # Named on the command line, a file is always meant as evidence: never ignored, an error.
    path = tmp_path / "artefact"
    path.write_bytes(content)
    collection = collect_paths([path], OPTIONS)
    [error] = collection.errors
    assert error.detail == f"not a format affidavit knows ({shape})"
    assert MARK not in error.diagnostics()
    assert not collection.skipped


def test_gate_exclude_leaves_an_unknown_document_out_and_records_it(tmp_path: Path) -> None:
    from tests.attacks.support import gate as run_gate
    from tests.attacks.support import release as demo_release

    evidence = demo_release(tmp_path, "go")
    (evidence / "inventory.json").write_text('{"hosts": ["a", "b"], "owner": "ops"}')
    assert run_gate(tmp_path, evidence, out="plain").exit_code == 3  # unknown JSON may be evidence
    excluded = run_gate(tmp_path, evidence, "--exclude", "inventory.json", out="excluded")
    assert excluded.exit_code == 0
    results = excluded.results
    assert any(
        n["path"].endswith("inventory.json") and n["action"] == "excluded" for n in results["not_read"]
    )
    assert {"role": "exclude", "path": None, "sha256": None, "value": "inventory.json"} in results[
        "configuration"
    ]["inputs"]
    assert (
        excluded.results["run_id"]
        != run_gate(tmp_path, evidence, "--exclude", "*.png", out="other").results["run_id"]
    )
