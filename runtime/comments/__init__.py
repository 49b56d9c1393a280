"""Comments on records, with @mentions (docs/record-pages.md)."""
from runtime.comments.service import (MAX_BODY, CommentError, CommentNotFound, Comments,  # noqa: F401
                                      mentioned_accounts)
