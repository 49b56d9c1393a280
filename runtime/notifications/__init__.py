"""Notifications (docs/notifications.md): in-app (fw_notifications: a list with an unread
count, marked read), e-mail over SMTP when FORMWORK_SMTP_HOST is set, and group robots
(DingTalk, WeCom, Feishu). Each send is a job, retried by runtime/jobs; what a user gets
is filtered by their preferences (channels per kind).

    send      notify(uow, recipients=..., kind=..., title=..., ...): render and enqueue
    inbox     the in-app list: listing, unread count, mark read, preferences
    email     SMTP settings from the environment and the sending job
    robots    the robot message formats and the posting job
"""
from runtime.notifications.inbox import (
    CHANNELS, badge_counts, list_notifications, mark_all_read, mark_read, preferences_of, set_preference, unread_count,
)
from runtime.notifications.send import notify

__all__ = ["CHANNELS", "badge_counts", "list_notifications", "mark_all_read", "mark_read", "preferences_of", "set_preference",
           "unread_count", "notify"]
