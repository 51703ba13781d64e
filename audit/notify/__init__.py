"""Notifiers: after a run, one message per channel (DingTalk, Feishu/Lark, WeCom, Slack, e-mail, a signed webhook)."""

from __future__ import annotations

from collections.abc import Callable

from audit.common.channels import ChannelSpec
from audit.notify.channel import Channel
from audit.notify.dingtalk import DingTalk
from audit.notify.email import Email
from audit.notify.feishu import Feishu
from audit.notify.slack import Slack
from audit.notify.webhook import Webhook
from audit.notify.wecom import WeCom

# One plug-in per manifest `type:`; a new platform is a module beside these and a line here.
CHANNELS: dict[str, Callable[[ChannelSpec], Channel]] = {
    "dingtalk": lambda spec: DingTalk(),
    "feishu": lambda spec: Feishu(),
    "wecom": lambda spec: WeCom(),
    "slack": lambda spec: Slack(),
    "email": Email,
    "webhook": lambda spec: Webhook(),
}
