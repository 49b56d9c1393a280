"""Outgoing webhooks (docs/automations.md, "Outgoing webhooks"): a JSON body with the
record, signed with HMAC-SHA256, a delivery id for de-duplication, retried with backoff,
every attempt logged in fw_webhook_deliveries."""
from runtime.webhooks.deliver import (
    DELIVERY_HEADER, EVENT_HEADER, SIGNATURE_HEADER, deliveries, enqueue_delivery, sign, verify_signature,
)

__all__ = ["DELIVERY_HEADER", "EVENT_HEADER", "SIGNATURE_HEADER", "deliveries", "enqueue_delivery", "sign",
           "verify_signature"]
