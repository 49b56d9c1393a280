"""The REST API's contract, for the endpoints (web/api) to wire: the OpenAPI document
built from the installed apps (openapi.py, schemas.py), the parsing of requests
(requests.py), the response bodies (responses.py) and the one mapping of exceptions to
HTTP errors (errors.py). Nothing here knows Flask."""
