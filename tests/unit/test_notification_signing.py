"""DingTalk-style robot signing, the SMS template and the chat payload: no database."""

from __future__ import annotations

import json
from urllib.parse import parse_qs, quote_plus, urlsplit

from domain.notifications import chat, signing, sms
from domain.notifications.records import ChannelConfig, Message

SECRET = "SECabc123"
# printf '1700000000000\nSECabc123' | openssl dgst -sha256 -hmac SECabc123 -binary | base64
EXPECTED = "N5P09a4+p1AMJIJWnIvQd2Yxw9+fu/oEBnPrjCcsLXk="


def message(recipient: str = "group", subject: str | None = None) -> Message:
    return Message(1, 7, "CHAT", recipient, subject, '補貨提示: "A" 得 3 件', "PO-1")


def test_signature_matches_an_independent_computation():
    assert signing.dingtalk_sign(SECRET, 1_700_000_000_000) == EXPECTED
    assert signing.verify(SECRET, 1_700_000_000_000, EXPECTED)
    assert not signing.verify(SECRET, 1_700_000_000_001, EXPECTED)
    assert not signing.verify("SECother", 1_700_000_000_000, EXPECTED)


def test_signed_url_keeps_the_access_token_and_url_encodes_the_sign():
    url = signing.signed_url(
        "https://oapi.dingtalk.com/robot/send?access_token=tok", SECRET, 1_700_000_000_000
    )
    parts = urlsplit(url)
    assert parts.path == "/robot/send"
    query = parse_qs(parts.query)
    assert query == {"access_token": ["tok"], "timestamp": ["1700000000000"], "sign": [EXPECTED]}
    assert f"sign={quote_plus(EXPECTED)}" in parts.query  # '+' and '/' and '=' escaped
    again = signing.signed_url(url, SECRET, 1_700_000_000_005)  # re-signing replaces
    assert parse_qs(urlsplit(again).query)["timestamp"] == ["1700000000005"]


def test_chat_url_is_signed_only_with_a_secret():
    plain = ChannelConfig("CHAT", True, chat_url="https://robot.example/send?access_token=t")
    assert chat.url_for(plain, 1) == plain.chat_url
    signed = ChannelConfig("CHAT", True, chat_url=plain.chat_url, chat_secret=SECRET)
    query = parse_qs(urlsplit(chat.url_for(signed, 1_700_000_000_000)).query)
    assert query["sign"] == [EXPECTED]


def test_chat_payload_mentions_a_mobile_or_everyone():
    assert chat.payload(message()) == {
        "msgtype": "text",
        "text": {"content": '補貨提示: "A" 得 3 件'},
        "at": {"atMobiles": [], "isAtAll": False},
    }
    assert chat.payload(message("@all"))["at"]["isAtAll"] is True
    mention = chat.payload(message("+85291234567", subject="補貨"))
    assert mention["at"]["atMobiles"] == ["+85291234567"]
    assert mention["text"]["content"].startswith("補貨\n")
    assert mention["text"]["content"].endswith("@+85291234567")


def test_sms_template_escapes_each_value_for_its_content_type():
    msg = Message(1, 7, "SMS", "+85291234567", None, 'say "hi"\n& 你好', None)
    config = ChannelConfig(
        "SMS",
        True,
        sms_url="https://sms.example/send",
        sms_method="POST",
        sms_content_type="application/json",
        sms_body_template='{"to": "{{to}}", "text": "{{body}}"}',
        sms_auth_header="X-Api-Key",
        sms_auth_value="k",
    )
    method, url, headers, body = sms.request_parts(msg, config)
    assert (method, url) == ("POST", "https://sms.example/send")
    assert json.loads(body) == {"to": "+85291234567", "text": 'say "hi"\n& 你好'}
    assert headers["X-Api-Key"] == "k" and headers["idempotency-key"] == "ntf-1-7"
    rendered = sms.render(
        "to={{to}}&m={{body}}",
        "application/x-www-form-urlencoded",
        {"to": "+85291234567", "body": "a&b=c 你"},
    )
    assert parse_qs(rendered) == {"to": ["+85291234567"], "m": ["a&b=c 你"]}
    get = ChannelConfig(
        "SMS",
        True,
        sms_url="https://sms.example/send?key=1",
        sms_method="GET",
        sms_body_template="to={{to}}&m={{body}}",
    )
    method, url, _, body = sms.request_parts(msg, get)
    assert method == "GET" and body == b""
    assert parse_qs(urlsplit(url).query) == {
        "key": ["1"],
        "to": ["+85291234567"],
        "m": ['say "hi"\n& 你好'],
    }
