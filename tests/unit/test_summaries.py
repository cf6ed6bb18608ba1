"""One-line summaries of WhatsApp payloads: the known events, hostile text, and any shape at all."""

from __future__ import annotations

from typing import Any

import orjson
from hypothesis import given, settings
from hypothesis import strategies as st

from tui.address_book import AddressBook
from tui.envelope import decode
from tui.message_content import message_text
from tui.summaries import MAX_SUMMARY, summarize, summarize_decoded, visible


def test_messages_upsert_conversation_with_sender() -> None:
    data = {
        "key": {"remoteJid": "5511999999999@s.whatsapp.net", "fromMe": False, "id": "3EB0"},
        "message": {"conversation": "Hello from WhatsApp!"},
        "pushName": "John Doe",
    }
    assert summarize("messages.upsert", data) == "John Doe: Hello from WhatsApp!"


def test_messages_upsert_from_me_and_extended_text() -> None:
    data = {"key": {"fromMe": True}, "message": {"extendedTextMessage": {"text": "see https://x"}}}
    assert summarize("messages.upsert", data) == "▸ me: see https://x"


SOPHIE = "5511987654321@s.whatsapp.net"
FAMILY = "120363025555555555@g.us"


def _book() -> AddressBook:
    book = AddressBook()
    book.learn("groups.upsert", [{"id": FAMILY, "subject": "Família", "participants": []}])
    book.learn("contacts.upsert", [{"remoteJid": SOPHIE, "pushName": "Sophie Turner"}])
    return book


def test_rows_read_like_whatsapp_who_and_what_first() -> None:
    book = _book()
    incoming = {"key": {"remoteJid": SOPHIE, "fromMe": False, "id": "A"}, "message": {"conversation": "Oi, tudo bem?"}}
    assert summarize("messages.upsert", incoming, names=book) == "Sophie Turner: Oi, tudo bem?"
    assert summarize("messages.upsert", incoming) == "+5511987654321: Oi, tudo bem?"  # no book: the number
    in_group = {"key": {"remoteJid": FAMILY, "participant": SOPHIE, "fromMe": False}, "message": {"conversation": "Oi"}}
    assert summarize("messages.upsert", in_group, names=book) == "Sophie Turner @ Família: Oi"
    assert summarize("messages.upsert", in_group) == "+5511987654321 @ group 120363…5555: Oi"
    mine = {"key": {"remoteJid": SOPHIE, "fromMe": True}, "pushName": "Acme", "message": {"conversation": "Shipping"}}
    assert summarize("send.message", mine, names=book) == "▸ me: Shipping (to Sophie Turner)"


def test_statuses_are_ticks() -> None:
    book = _book()
    receipt = {"keyId": "A", "remoteJid": SOPHIE, "fromMe": True}
    assert summarize("messages.update", {**receipt, "status": "SERVER_ACK"}, names=book) == "✓ sent to Sophie Turner"
    assert summarize("messages.update", {**receipt, "status": "DELIVERY_ACK"}, names=book) == (
        "✓✓ delivered to Sophie Turner"
    )
    assert summarize("messages.update", {**receipt, "status": "READ"}, names=book) == "✓✓ read by Sophie Turner"
    assert summarize("messages.update", {**receipt, "status": 4}, names=book) == "✓✓ read by Sophie Turner"
    assert summarize("messages.update", {**receipt, "remoteJid": FAMILY, "status": "READ"}, names=book) == (
        "✓✓ read in Família"
    )
    assert summarize("send.message.update", {"keyId": "A", "status": "PENDING"}) == "◌ pending A"


def test_the_address_book_learns_names_and_stays_bounded() -> None:
    book = AddressBook(capacity=3)
    book.learn("groups.update", [{"id": FAMILY, "subject": "Família", "author": SOPHIE}])
    version = book.version
    book.learn("groups.update", [{"id": FAMILY, "subject": "Família"}])
    assert book.version == version  # told again: nothing changed
    book.learn("messages.upsert", {"key": {"remoteJid": FAMILY, "participant": SOPHIE}, "pushName": "Sophie"})
    book.learn("messages.upsert", {"key": {"remoteJid": "1@s.whatsapp.net", "fromMe": True}, "pushName": "Me"})
    assert book.name(SOPHIE) == "Sophie" and book.name("1@s.whatsapp.net") is None
    for n in range(5):
        book.remember(f"{n}@s.whatsapp.net", f"P{n}")
    assert len(book) == 3 and book.name(FAMILY) is None and book.name("4@s.whatsapp.net") == "P4"
    for odd in (None, 42, "x", [1, {"id": 3}], {"messages": "no"}, [{"id": ["x"], "subject": {"a": 1}}]):
        book.learn("contacts.upsert", odd)
        book.learn("messages.upsert", odd)
    assert len(book) == 3


def test_media_captions_and_reactions() -> None:
    assert message_text({"imageMessage": {"caption": "cat"}}) == "[image] cat"
    assert message_text({"videoMessage": {}}) == "[video]"
    assert message_text({"documentMessage": {"fileName": "a.pdf"}}) == "[document] a.pdf"
    assert message_text({"reactionMessage": {"text": "👍", "key": {"id": "M1"}}}) == "reaction 👍 to M1"
    assert message_text({"reactionMessage": {"text": ""}}) == "reaction (removed)"
    assert message_text({"audioMessage": {"seconds": 3}}) == "[audio]"
    assert message_text({"somethingNewMessage": {}}) == "[somethingNewMessage]"


def test_messages_upsert_list_shape_counts_the_rest() -> None:
    data = {"messages": [{"message": {"conversation": "a"}}, {"message": {"conversation": "b"}}]}
    assert summarize("messages.upsert", data) == "a"
    assert summarize("messages.upsert", [{"message": {"conversation": "a"}}, {}]) == "a (+1 more)"


def test_connection_update_state() -> None:
    assert summarize("connection.update", {"instance": "x", "state": "open", "statusReason": 200}) == (
        "state open (reason 200)"
    )


def test_group_participants_action_and_people() -> None:
    data = {"id": "1203@g.us", "participants": ["551@s.whatsapp.net", {"id": "552@lid"}], "action": "add"}
    assert summarize("group-participants.update", data) == "add +551, +552 in group 1203"


def test_status_presence_call_qrcode_contacts_chats_labels() -> None:
    assert summarize("messages.update", [{"keyId": "K1", "remoteJid": "55@s", "status": "READ"}]) == (
        "✓✓ read from +55"
    )
    presence = {"id": "55@s", "presences": {"55@s": {"lastKnownPresence": "composing"}}}
    assert summarize("presence.update", presence) == "+55 composing"
    assert summarize("call", [{"from": "55@s", "status": "offer", "isVideo": True}]) == "video call offer from +55"
    assert summarize("qrcode.updated", {"qrcode": {"pairingCode": "ABCD", "code": "2@x"}}) == (
        "QR code updated, pairing code ABCD"
    )
    assert summarize("contacts.upsert", [{"id": "1@s", "pushName": "Ann"}, {"id": "2@s"}]) == "2 contacts: Ann, +2"
    assert summarize("chats.upsert", [{"id": "9@g.us"}]) == "1 chat: group 9"
    assert summarize("labels.edit", {"id": "1", "name": "VIP", "color": 3}) == "label VIP (color 3)"
    assert summarize("labels.association", {"type": "add", "labelId": "1", "chatId": "5@s"}) == (
        "add label 1 on +5"
    )


def test_unknown_event_and_odd_shapes_fall_back() -> None:
    assert summarize("something.else", {"a": 1, "b": 2}) == "{a, b}"
    assert summarize("messages.upsert", 42) == "42"
    assert summarize("messages.upsert", None) == ""
    assert summarize(None, [1, 2, 3]) == "[3 items]"


def test_hostile_text_is_one_visible_line() -> None:
    data = {"message": {"conversation": "\x1b[31mred\x1b]0;title\x07\nline2\r\x00 [bold red]x[/]"}}
    out = summarize("messages.upsert", data)
    assert "\x1b" not in out and "\n" not in out and "\x07" not in out and "\x00" not in out
    assert "\\x1b[31mred" in out and "[bold red]" in out
    assert visible("\u2028\x9b") == "\\u2028\\x9b"


def test_long_text_is_cut() -> None:
    out = summarize("messages.upsert", {"message": {"conversation": "x" * 5_000_000}})
    assert len(out) == MAX_SUMMARY and out.endswith("…")


def test_decoded_records_of_every_kind() -> None:
    envelope = orjson.dumps(
        {"event": "connection.update", "instance": "a", "data": {"state": "close"}, "apikey": "s"}
    )
    assert summarize_decoded(decode(envelope)) == "state close"
    assert summarize_decoded(decode(None)) == "(null value)"
    assert summarize_decoded(decode(b"\xff\xfe\x00")) == "(binary) ff fe 00"
    assert summarize_decoded(decode(b"plain \x1b text")) == "plain \\x1b text"
    assert summarize_decoded(decode(b'{"x": 1}')) == "{x}"
    big = b'{"event":"messages.upsert","instance":"a","data":"' + b"y" * 100 + b'"}'
    assert summarize_decoded(decode(big, max_parse=50)).startswith("(large value, 152 bytes)")


def test_deeply_nested_json_does_not_break() -> None:
    deep: Any = "end"
    for _ in range(5000):
        deep = {"message": deep}
    assert isinstance(summarize("messages.upsert", {"message": deep}), str)
    nested = b'{"event":"call","instance":"a","data":' + b"[" * 2000 + b"]" * 2000 + b"}"
    assert isinstance(summarize_decoded(decode(nested)), str)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4),
    max_leaves=25,
)
shaped = st.fixed_dictionaries(
    {},
    optional={
        "key": json_values,
        "message": json_values,
        "messages": json_values,
        "participants": json_values,
        "presences": json_values,
        "qrcode": json_values,
        "state": json_values,
        "status": json_values,
        "pushName": json_values,
    },
)


@settings(max_examples=300, deadline=None)
@given(
    event=st.sampled_from(
        [
            "messages.upsert", "messages.update", "messages.delete", "messages.edited", "connection.update",
            "qrcode.updated", "group-participants.update", "presence.update", "call", "contacts.upsert",
            "chats.delete", "labels.edit", "labels.association", "typebot.start", "instance.create", "x",
        ]
    ),
    data=json_values | shaped | st.lists(shaped, max_size=3),
)
def test_any_shape_never_raises(event: str, data: Any) -> None:
    out = summarize(event, data)
    assert isinstance(out, str) and len(out) <= MAX_SUMMARY
    assert not any(ord(c) < 0x20 or 0x7F <= ord(c) <= 0x9F for c in out)
