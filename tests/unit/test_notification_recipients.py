"""Recipient validation per channel, and the views of channel settings without secrets."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from domain.errors import InvalidInput
from domain.notifications import channels, recipients


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("chan.tai-man@Example.COM.HK", "chan.tai-man@example.com.hk"),
        ("  ops+alerts@shop.mo ", "ops+alerts@shop.mo"),
        ("店長@例子.香港", None),  # non-ASCII local part: refused
        ("a@例子.香港", "a@xn--fsqu00a.xn--j6w193g"),
    ],
)
def test_email_addresses(value, expected):
    if expected is None:
        with pytest.raises(InvalidInput):
            recipients.recipient("EMAIL", value)
    else:
        assert recipients.recipient("EMAIL", value) == expected


@pytest.mark.parametrize(
    "value",
    [
        "",
        "no-at-sign",
        "@example.com",
        "a@",
        "a@localhost",
        "a b@example.com",
        "a@exa mple.com",
        "a@example.com\r\nBcc: x@y.com",
        "Chan <a@example.com>",
        "a..b@example.com",
        ".a@example.com",
        "a@-example.com",
        "x" * 65 + "@example.com",
        "a@" + "b" * 250 + ".com",
    ],
)
def test_bad_email_addresses(value):
    with pytest.raises(InvalidInput) as error:
        recipients.recipient("EMAIL", value)
    assert error.value.field == ["recipient"]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("+852 9123 4567", "+85291234567"),
        ("+853-6612-3456", "+85366123456"),
        ("+86 138 0013 8000", "+8613800138000"),
        ("+44 (20) 7946 0958", "+442079460958"),
    ],
)
def test_phone_numbers(value, expected):
    assert recipients.recipient("SMS", value) == expected
    assert recipients.recipient("CHAT", value) == expected


@pytest.mark.parametrize(
    "value",
    ["91234567", "+852 9123 456", "+852 9123 45678", "+853 661234", "+0123456789", "+852abc"],
)
def test_bad_phone_numbers(value):
    with pytest.raises(InvalidInput):
        recipients.recipient("SMS", value)


def test_chat_recipients():
    assert recipients.recipient("CHAT", " Group ") == "group"
    assert recipients.recipient("CHAT", "@ALL") == "@all"
    with pytest.raises(InvalidInput):
        recipients.recipient("CHAT", "store manager")
    with pytest.raises(InvalidInput) as error:
        recipients.recipient("FAX", "x")
    assert error.value.field == ["channel"]


def test_views_of_settings_never_hold_secrets():
    row = SimpleNamespace(
        channel="CHAT",
        enabled=True,
        chat_url="https://robot/send?access_token=TOKEN",
        chat_secret="SEC1",
    )
    view = channels.public_view(row)
    assert view == {
        "channel": "CHAT",
        "enabled": True,
        "chat": {"url": "https://robot/send?access_token=***", "hasSecret": True},
    }
    audited = channels.audited_input(
        {"channel": "SMS", "sms": {"url": "https://gw/x?key=K", "auth_value": "BEARER"}}
    )
    assert "BEARER" not in repr(audited) and "K" not in audited["sms"]["url"].split("?")[1]
