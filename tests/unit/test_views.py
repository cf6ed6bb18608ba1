"""Saved views: where they live, the round trip, damaged files, selections and their topics."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tui.filters import FilterSpec
from tui.saved_views import View, ViewStore, config_dir
from tui.selection import PaneSpec, Selection, ViewError


def test_config_dir_precedence(tmp_path: Path) -> None:
    assert config_dir({"EVOKAFKA_CONFIG_DIR": "/a", "XDG_CONFIG_HOME": "/b"}) == Path("/a")
    assert config_dir({"XDG_CONFIG_HOME": "/b"}) == Path("/b/evokafka")
    assert config_dir({"HOME": "/h"}) == Path("/h/.config/evokafka")
    store = ViewStore(environ={"EVOKAFKA_CONFIG_DIR": str(tmp_path)})
    assert store.path == tmp_path / "views.json"


def sample() -> View:
    return View(
        "triage",
        (
            PaneSpec(
                "alpha msgs",
                Selection(instances=("alpha", "beta"), events=("messages.upsert",)),
                "-10",
                FilterSpec(text="hello", jsonpath="$.data"),
            ),
            PaneSpec("global", Selection(global_events=("CONNECTION_UPDATE",), pattern=r"evolution\..*"), "earliest"),
        ),
        "grid",
    )


def test_save_load_reopen_delete(tmp_path: Path) -> None:
    store = ViewStore(tmp_path / "sub" / "views.json")
    assert store.load() == {} and store.problems == []
    store.save(sample())
    store.save(View("empty", ()))
    again = ViewStore(tmp_path / "sub" / "views.json")
    assert again.names() == ["empty", "triage"]
    assert again.get("triage") == sample()
    assert again.delete("empty") and not again.delete("empty")
    with pytest.raises(ViewError, match="no view named 'nope'"):
        again.get("nope")


def test_damaged_file_never_raises_and_is_kept(tmp_path: Path) -> None:
    path = tmp_path / "views.json"
    path.write_text("{not json", encoding="utf-8")
    store = ViewStore(path)
    assert store.load() == {} and "not JSON" in store.problems[0]
    store.save(sample())
    assert (tmp_path / "views.json.bak").read_text(encoding="utf-8") == "{not json"
    assert store.names() == ["triage"]


def test_bad_entries_are_skipped_with_a_reason(tmp_path: Path) -> None:
    path = tmp_path / "views.json"
    good = sample().to_dict()
    path.write_text(json.dumps({"views": [good, {"name": ""}, 3, {"name": "x", "arrangement": "spiral"}]}))
    store = ViewStore(path)
    assert list(store.load()) == ["triage"]
    assert len(store.problems) == 3 and all("skipped" in p for p in store.problems)


def test_selection_topics_speak_the_layout() -> None:
    sel = Selection(
        topics=("raw.topic",),
        instances=("alpha", "beta"),
        events=("MESSAGES_UPSERT", "connection.update"),
        global_events=("call",),
    )
    sel.check("evolution")
    assert sel.named_topics("evolution") == [
        "evolution.alpha.connection.update",
        "evolution.alpha.messages.upsert",
        "evolution.beta.connection.update",
        "evolution.beta.messages.upsert",
        "evolution.global.call",
        "raw.topic",
    ]
    assert "alpha,beta/MESSAGES_UPSERT,connection.update" in sel.describe()


@pytest.mark.parametrize(
    ("selection", "message"),
    [
        (Selection(), "nothing to read"),
        (Selection(instances=("a",)), "need both"),
        (Selection(global_events=("nope.event",)), "unknown event"),
        (Selection(instances=("bad name",), events=("call",)), "illegal instance name"),
        (Selection(topics=("a b",)), "illegal topic name"),
        (Selection(pattern="(unclosed"), "bad topic regex"),
    ],
)
def test_selection_errors_are_one_line(selection: Selection, message: str) -> None:
    with pytest.raises(ViewError) as err:
        selection.check("evolution")
    assert message in str(err.value) and "\n" not in str(err.value)
