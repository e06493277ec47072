"""The Web API methods the fake answers: each takes the workspace and the call's arguments."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .models import ModalView, WorkspaceError
from .workspace import Workspace

Handler = Callable[[Workspace, dict[str, Any]], dict[str, Any]]


def _required(args: dict[str, Any], key: str, error: str = "invalid_arguments") -> str:
    value = args.get(key)
    if value in (None, ""):
        raise WorkspaceError(error)
    return str(value)


def flag(value: Any) -> bool | None:
    if value is None or isinstance(value, bool):
        return value
    return str(value).lower() in ("1", "true")


def blocks_arg(value: Any) -> list[dict[str, Any]] | None:
    if value is None or (isinstance(value, list) and all(isinstance(b, dict) for b in value)):
        return value
    raise WorkspaceError("invalid_blocks")


def auth_test(ws: Workspace, args: dict[str, Any]) -> dict[str, Any]:
    return {
        "url": f"https://{ws.team_domain}.slack.com/",
        "team": ws.team_domain,
        "user": ws.users[ws.bot_user_id],
        "team_id": ws.team_id,
        "user_id": ws.bot_user_id,
        "bot_id": ws.bot_id,
        "is_enterprise_install": False,
    }


def post_message(ws: Workspace, args: dict[str, Any]) -> dict[str, Any]:
    message = ws.post(
        _required(args, "channel", "channel_not_found"),
        text=str(args.get("text") or ""),
        blocks=blocks_arg(args.get("blocks")),
        thread_ts=args.get("thread_ts") or None,
        unfurl_links=flag(args.get("unfurl_links")),
        unfurl_media=flag(args.get("unfurl_media")),
        metadata=args.get("metadata"),
    )
    return {"channel": message.channel, "ts": message.ts, "message": message.as_api(ws.team_id)}


def post_ephemeral(ws: Workspace, args: dict[str, Any]) -> dict[str, Any]:
    channel = _required(args, "channel", "channel_not_found")
    user = _required(args, "user", "user_not_found")
    if user not in ws.users:
        raise WorkspaceError("user_not_found")
    message = ws.post(
        channel,
        text=str(args.get("text") or ""),
        blocks=blocks_arg(args.get("blocks")),
        thread_ts=args.get("thread_ts") or None,
        ephemeral_to=user,
    )
    return {"message_ts": message.ts}


def update_message(ws: Workspace, args: dict[str, Any]) -> dict[str, Any]:
    message = ws.update(
        _required(args, "channel", "channel_not_found"),
        _required(args, "ts", "message_not_found"),
        text=None if args.get("text") is None else str(args["text"]),
        blocks=blocks_arg(args.get("blocks")),
        metadata=args.get("metadata"),
    )
    return {
        "channel": message.channel,
        "ts": message.ts,
        "text": message.text,
        "message": message.as_api(ws.team_id),
    }


def permalink(ws: Workspace, args: dict[str, Any]) -> dict[str, Any]:
    channel = ws.channel_id(_required(args, "channel", "channel_not_found"))
    message = ws.message(channel, _required(args, "message_ts", "message_not_found"))
    if message is None:
        raise WorkspaceError("message_not_found")
    link = f"https://{ws.team_domain}.slack.com/archives/{channel}/p{message.ts.replace('.', '')}"
    if message.is_reply:
        link += f"?thread_ts={message.thread_ts}&cid={channel}"
    return {"channel": channel, "permalink": link}


def _view_answer(ws: Workspace, view: ModalView) -> dict[str, Any]:
    return {"view": view.as_api(team_id=ws.team_id, app_id=ws.app_id, bot_id=ws.bot_id)}


def views_open(ws: Workspace, args: dict[str, Any]) -> dict[str, Any]:
    trigger_id = _required(args, "trigger_id", "invalid_trigger_id")
    return _view_answer(ws, ws.open_view(trigger_id, args.get("view")))


def views_push(ws: Workspace, args: dict[str, Any]) -> dict[str, Any]:
    trigger_id = _required(args, "trigger_id", "invalid_trigger_id")
    return _view_answer(ws, ws.push_view(trigger_id, args.get("view")))


def views_update(ws: Workspace, args: dict[str, Any]) -> dict[str, Any]:
    view_id, external_id = args.get("view_id") or None, args.get("external_id") or None
    if view_id is None and external_id is None:
        raise WorkspaceError("invalid_arguments")
    view = ws.update_view(
        args.get("view"), view_id=view_id, external_id=external_id, hash=args.get("hash")
    )
    return _view_answer(ws, view)


def views_publish(ws: Workspace, args: dict[str, Any]) -> dict[str, Any]:
    user_id = _required(args, "user_id")
    home = ws.publish_home(user_id, args.get("view"), hash=args.get("hash") or None)
    return {"view": home.as_api(team_id=ws.team_id, app_id=ws.app_id, bot_id=ws.bot_id)}


def usergroup_users(ws: Workspace, args: dict[str, Any]) -> dict[str, Any]:
    group = ws.usergroups.get(str(args.get("usergroup") or ""))
    if group is None:
        raise WorkspaceError("no_such_subteam")
    return {"users": list(group)}


def users_info(ws: Workspace, args: dict[str, Any]) -> dict[str, Any]:
    user_id = _required(args, "user", "user_not_found")
    if user_id not in ws.users:
        raise WorkspaceError("user_not_found")
    name = ws.users[user_id]
    return {
        "user": {
            "id": user_id,
            "team_id": ws.team_id,
            "name": name,
            "real_name": name,
            "is_bot": user_id == ws.bot_user_id,
            "deleted": False,
            "profile": {"real_name": name, "display_name": name},
        }
    }


def conversations_open(ws: Workspace, args: dict[str, Any]) -> dict[str, Any]:
    users = args.get("users") or ""
    ids = [u.strip() for u in (users if isinstance(users, list) else str(users).split(","))]
    ids = [u for u in ids if u and u != ws.bot_user_id]
    if len(ids) != 1:
        raise WorkspaceError("users_list_not_supplied" if not ids else "not_supported_by_fake")
    return {"channel": {"id": ws.dm_channel(ids[0])}}


METHODS: dict[str, Handler] = {
    "auth.test": auth_test,
    "chat.postMessage": post_message,
    "chat.postEphemeral": post_ephemeral,
    "chat.update": update_message,
    "chat.getPermalink": permalink,
    "views.open": views_open,
    "views.push": views_push,
    "views.update": views_update,
    "views.publish": views_publish,
    "usergroups.users.list": usergroup_users,
    "users.info": users_info,
    "conversations.open": conversations_open,
}
