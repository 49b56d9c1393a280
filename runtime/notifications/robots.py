"""Group robots (群机器人): a message posted to a chat group's webhook, in each vendor's format.

    dingtalk  {"msgtype": "markdown", "markdown": {"title": ..., "text": "#### title\\n\\nbody"}}
    wecom     {"msgtype": "markdown", "markdown": {"content": "**title**\\nbody"}}
    feishu    {"msg_type": "text", "content": {"text": "title\\nbody"}}

(DingTalk: open.dingtalk.com custom robot; WeCom: developer.work.weixin.qq.com group robot;
Feishu: open.feishu.cn custom bot.) Each answers 200 with a JSON status: DingTalk and WeCom
`errcode` 0, Feishu `code` 0 (older: `StatusCode` 0); anything else is a failure, retried.
The robot's URL (with its access token) is read from the environment variable the
definition names, never stored in the definition.
"""
from __future__ import annotations

import json
import os
import urllib.request

from engine.errors import FormworkError

TIMEOUT = 10.0
FORMATS = ("dingtalk", "wecom", "feishu")


def robot_message(format_: str, title: str, body: str, link: str | None = None) -> dict:
    more = f"\n\n[{link}]({link})" if link else ""
    if format_ == "dingtalk":
        return {"msgtype": "markdown", "markdown": {"title": title, "text": f"#### {title}\n\n{body}{more}"}}
    if format_ == "wecom":
        return {"msgtype": "markdown", "markdown": {"content": f"**{title}**\n{body}{more}"}}
    if format_ == "feishu":
        return {"msg_type": "text", "content": {"text": f"{title}\n{body}" + (f"\n{link}" if link else "")}}
    raise FormworkError(f"unknown robot format {format_!r}; use one of {', '.join(FORMATS)}")


def accepted(format_: str, answer: dict) -> bool:
    if format_ == "feishu":
        return answer.get("code", answer.get("StatusCode", -1)) == 0
    return answer.get("errcode", -1) == 0


def post_robot(format_: str, url_env: str, title: str, body: str, link: str | None = None) -> dict:
    url = os.environ.get(url_env, "").strip()
    if not url:
        return {"skipped": f"{url_env} is not set"}
    data = json.dumps(robot_message(format_, title, body, link), ensure_ascii=False).encode()
    request = urllib.request.Request(url, data=data, method="POST",
                                     headers={"Content-Type": "application/json; charset=utf-8"})
    with urllib.request.urlopen(request, timeout=TIMEOUT) as response:
        answer = json.loads(response.read() or b"{}")
    if not accepted(format_, answer):
        raise FormworkError(f"the {format_} robot refused the message: {json.dumps(answer, ensure_ascii=False)[:300]}")
    return {"posted": format_}
