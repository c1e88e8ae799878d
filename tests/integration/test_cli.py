"""The `newswire` command as a user runs it: real subprocesses of `python -m newswire_cli`."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.factories import SAMPLES
from tests.support.cli import newswire

SAMPLE_001 = "samples/001_a4acd85c8333343b.txt"
SAMPLE_004 = "samples/004_2f71f833eff9ab30.txt"
CLEAN_KEYS = {"file", "title", "text", "published_at", "modified_at", "authors", "removed"}


def _newswire(
    *args: str, timeout: float = 120, env_overrides: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "COLUMNS": "200", "NO_COLOR": "1", "NEWSWIRE_LOG_JSON": "false"}
    env.update(env_overrides or {})
    return newswire(*args, env=env, timeout=timeout)


def _json_lines(result: subprocess.CompletedProcess[str]) -> list[dict[str, Any]]:
    assert result.returncode == 0, f"exit {result.returncode}\n{result.stdout}\n{result.stderr}"
    return [json.loads(line) for line in result.stdout.splitlines() if line.strip()]


@pytest.fixture(scope="module")
def cleaned_samples() -> dict[str, dict[str, Any]]:
    """`newswire clean samples/`, once for the module, by sample number ("000" ... "004")."""
    lines = _json_lines(_newswire("clean", "samples/"))
    return {Path(d["file"]).name[:3]: d for d in lines}


def test_clean_folder_prints_one_json_line_per_sample(cleaned_samples: dict[str, dict[str, Any]]) -> None:
    assert sorted(cleaned_samples) == ["000", "001", "002", "003", "004"]
    assert len(list(SAMPLES.glob("*.txt"))) == 5
    for number, article in cleaned_samples.items():
        assert set(article) >= CLEAN_KEYS, (number, sorted(article))
        assert Path(article["file"]).name.startswith(number)
        assert isinstance(article["authors"], list)
        assert isinstance(article["removed"], list)
        assert all({"text", "reason"} <= set(piece) for piece in article["removed"])
        assert len(article["text"]) > 300, (number, article["text"][:200])


def test_clean_lifts_dates(cleaned_samples: dict[str, dict[str, Any]]) -> None:
    assert cleaned_samples["003"]["published_at"].startswith("2023-02-12")
    # "Last Modified: 21 Oct 2011 15:24" in sample 004
    article = cleaned_samples["004"]
    assert article["modified_at"].startswith("2011-10-21T15:24")
    assert article["published_at"] is None or article["published_at"].startswith("2011-10-21")
    assert "Last Modified" not in article["text"]


def test_clean_drops_boilerplate(cleaned_samples: dict[str, dict[str, Any]]) -> None:
    raw_000 = next(SAMPLES.glob("000_*.txt")).read_text(encoding="utf-8")
    assert "See all newsletters" in raw_000  # the junk is in the input ...
    for article in cleaned_samples.values():
        assert "See all newsletters" not in article["text"]  # ... and in no output text
    removed = [piece for piece in cleaned_samples["000"]["removed"] if piece["text"] == "See all newsletters"]
    assert removed, "the dropped newsletter prompt is reported in `removed`"
    assert cleaned_samples["004"]["title"] == "Clinton says US officials met with Haqqanis"


def test_clean_explain_shows_each_decision() -> None:
    result = _newswire("clean", "--explain", SAMPLE_004)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    drops = [line for line in lines if line.startswith("DROP ")]
    keeps = [line for line in lines if line.startswith("KEEP ")]
    assert drops, result.stdout
    assert keeps, result.stdout
    assert all(line.startswith(("DROP ", "KEEP ")) for line in lines if line.strip())
    date_line = next(line for line in drops if "Last Modified: 21 Oct 2011 15:24" in line)
    assert date_line.split()[1] == "date_line"
    caption = next(line for line in drops if line.endswith("[Reuters]"))
    assert caption.split()[1] == "caption"
    # each DROP line names its reason before the score and the text
    for line in drops:
        _, reason, score = line.split()[:3]
        assert reason.isidentifier(), line
        float(score)


def test_clean_html_file_drops_script(tmp_path: Path) -> None:
    page = tmp_path / "harbour.html"
    page.write_text(
        "<html><head><title>Harbour reopens after storm</title>"
        '<script>var trackingSecret = "zzqx-tracker-token";</script></head><body>'
        "<nav>Home | World | Sport</nav><article><h1>Harbour reopens after storm</h1>"
        "<p>The harbour in the coastal town reopened on Monday after a week of repairs to the sea wall "
        "damaged by the storm, the port authority said in a statement.</p>"
        '<script>document.write("injected-script-text")</script>'
        "<p>Fishing boats returned to their moorings and ferry services to the islands resumed on their "
        "usual timetable, officials added on Monday evening.</p></article></body></html>",
        encoding="utf-8",
    )
    (article,) = _json_lines(_newswire("clean", str(page)))
    assert article["file"] == str(page)
    assert article["title"] == "Harbour reopens after storm"
    assert "reopened on Monday after a week of repairs" in article["text"]
    assert "ferry services to the islands resumed" in article["text"]
    for script_content in ("trackingSecret", "zzqx-tracker-token", "document.write", "injected-script-text"):
        assert script_content not in article["text"]
    assert "Home | World | Sport" not in article["text"]


def test_enrich_sample_finds_entities_and_topics() -> None:
    (article,) = _json_lines(_newswire("enrich", SAMPLE_001))
    entities = {(e["name"], e["type"]) for e in article["entities"]}
    assert ("Hillary Clinton", "PERSON") in entities
    assert ("NATO", "ORG") in entities
    assert isinstance(article["topics"], list)
    assert article["topics"], "an English news article gets topics"
    for topic in article["topics"]:
        assert topic["code"].startswith("medtop:")
        assert topic["label"]
        assert 0 < topic["score"] <= 1
    assert article["detected_language"]["code"] == "en"
    for entity in article["entities"]:
        assert entity["count"] == len(entity["mentions"]) == sum(entity["aliases"].values()) >= 1
        assert 0.0 <= entity["salience"]["score"] <= 1.0
        for mention in entity["mentions"]:
            source = article["title"] if mention["field"] == "title" else article["text"]
            assert source[mention["start"] : mention["end"]] == mention["text"]


def test_help_lists_every_command() -> None:
    result = _newswire("--help")
    assert result.returncode == 0, result.stderr
    listed = {line.strip(" │|").split(" ", 1)[0] for line in result.stdout.splitlines()}
    for command in (
        "run",
        "ingest",
        "clean",
        "enrich",
        "queues",
        "sources",
        "migrate",
        "serve",
        "worker",
        "relay",
        "flower",
    ):
        assert command in listed, f"{command!r} missing from:\n{result.stdout}"


@pytest.mark.parametrize("command", ["clean", "enrich", "ingest"])
def test_missing_file_is_a_clear_error_not_a_traceback(command: str, tmp_path: Path) -> None:
    missing = tmp_path / "no-such-article.txt"
    result = _newswire(command, str(missing))
    assert result.returncode != 0
    output = result.stdout + result.stderr
    assert "Traceback" not in output, output
    assert "does not exist" in output, output
    assert "no-such-article.txt" in output, output


def test_keys_commands_create_list_and_revoke(database_url: str) -> None:
    unbound = _newswire("keys", "create", "--name", "partner feed", "--scope", "ingest")
    assert unbound.returncode != 0
    assert "--any-source" in unbound.stderr, unbound.stderr
    created = _newswire(
        "keys", "create", "--name", "partner feed", "--scope", "ingest", "--scope", "read",
        "--source", "partner", "--source", "partner-sport",
    )  # fmt: skip
    assert created.returncode == 0, created.stderr
    key = created.stdout.strip()
    assert key.startswith("nw_")
    assert "not shown again" in created.stderr
    prefix = key.split("_")[1]
    listed = json.loads(_newswire("keys", "list", "--json").stdout)
    mine = next(k for k in listed if k["prefix"] == prefix)
    assert mine["scopes"] == ["ingest", "read"]
    assert mine["name"] == "partner feed"
    assert mine["sources"] == ["partner", "partner-sport"]
    assert mine["any_source"] is False
    table = _newswire("keys", "list").stdout
    assert key not in table
    assert "partner,partner-sport" in table, table
    anywhere = _newswire("keys", "create", "--name", "wire", "--scope", "admin", "--any-source", "--json")
    assert json.loads(anywhere.stdout)["any_source"] is True, anywhere.stderr
    bad = _newswire("keys", "create", "--name", "x", "--scope", "superuser")
    assert bad.returncode != 0
    assert "unknown scope" in bad.stderr
    revoked = _newswire("keys", "revoke", prefix)
    assert revoked.returncode == 0, revoked.stderr
    assert json.loads(_newswire("keys", "list", "--json", "--active").stdout).count(mine) == 0
    assert _newswire("keys", "revoke", "ffffffff").returncode == 1


def test_run_keeps_its_admin_key_while_the_database_knows_it(database_url: str, tmp_path: Path) -> None:
    from newswire_cli.run import ensure_admin_key, flower_credentials
    from shared.auth import service
    from shared.db import session_scope

    first = ensure_admin_key(database_url, tmp_path)
    assert ensure_admin_key(database_url, tmp_path) == first
    assert oct((tmp_path / "api-key").stat().st_mode & 0o777) == "0o600"
    with session_scope() as session:
        service.revoke_key(session=session, ref=first)
    second = ensure_admin_key(database_url, tmp_path)
    assert second != first
    (tmp_path / "api-key").write_text("nw_00000000_" + "a" * 43)  # a key of another database
    assert ensure_admin_key(database_url, tmp_path) not in (first, second)
    user, _, password = flower_credentials(tmp_path).partition(":")
    assert (user, len(password) >= 12) == ("admin", True)
    assert flower_credentials(tmp_path) == f"{user}:{password}"


def test_entities_override_add_list_remove(database_url: str) -> None:
    surface = "Zyxw Qorp Holdings"  # matches no article of the shared test database
    added = _newswire(
        "entities", "override", "add", "--kind", "alias", "--surface", surface,
        "--canonical", "Zyxw Group", "--type", "ORG", "--note", "cli test", "--json",
    )  # fmt: skip
    assert added.returncode == 0, added.stderr
    saved = json.loads(added.stdout)
    override_id = saved["override"]["id"]
    try:
        assert saved["requeued"] == 0
        assert saved["override"]["canonical_type"] == "ORG"
        assert saved["override"]["created_by"].startswith("cli:")
        listed = json.loads(_newswire("entities", "override", "list", "--json").stdout)
        assert override_id in [o["id"] for o in listed["items"]]
        assert surface in _newswire("entities", "override", "list").stdout
        again = _newswire("entities", "override", "add", "--kind", "alias", "--surface", surface.lower(),
                          "--canonical", "Other")  # fmt: skip
        assert again.returncode == 1
        assert "exists" in again.stderr
        bad = _newswire("entities", "override", "add", "--kind", "merge", "--surface", "X Qorp")
        assert bad.returncode != 0
        assert "canonical" in bad.stderr
    finally:
        removed = _newswire("entities", "override", "remove", str(override_id))
    assert removed.returncode == 0, removed.stderr
    assert f"override {override_id} removed; 0 articles" in removed.stdout
    assert _newswire("entities", "override", "remove", str(override_id)).returncode == 1


def test_enrich_german_file_runs_the_german_model_and_names_it(tmp_path: Path) -> None:
    article = tmp_path / "scholz.txt"
    article.write_text(
        "Scholz trifft Gewerkschaften in Berlin\n\n"
        "Bundeskanzler Olaf Scholz hat am Mittwoch in Berlin mit Vertretern der Gewerkschaften über die "
        "Zukunft der Industrie gesprochen. Die Regierung will die Energiepreise für Unternehmen senken, "
        "sagte der Kanzler nach dem Treffen im Kanzleramt. Auch die Chefin der IG Metall nahm teil.\n",
        encoding="utf-8",
    )
    (out,) = _json_lines(_newswire("enrich", "--raw", str(article)))
    assert out["detected_language"]["code"] == "de"
    assert out["ner_model"].startswith("newswire_ner_de-")
    assert out["ner_model"] == out["model_versions"]["ner_model_de"]
    assert any("Olaf Scholz" in e["name"] and e["type"] == "PERSON" for e in out["entities"])
