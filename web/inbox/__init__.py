"""The task inbox (/tasks), acting on a task from the record page, the notification
list (/notifications) and the top bar's counts."""
