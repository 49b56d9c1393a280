"""The REST API under /api/v1 (views.py), its OpenAPI document and docs page (docs.py),
and the per-key rate limit every API request passes (limits.py). The contract (parsing,
bodies, errors, the document) is runtime/api's; these modules only wire it to Flask."""
