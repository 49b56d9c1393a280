"""Authentication state kept by the runtime: API keys (api_keys.py), request rate limits
(rate_limit.py), the throttle of failed sign-ins (throttle.py), per-user session epochs (epochs.py) and one throttled
sign-in attempt (sign_in.py, imported from there: it reads the org model, which itself
raises epochs and revokes keys on deactivation). The web layer only calls these;
nothing here knows about HTTP."""
from runtime.auth.api_keys import ApiKey, ApiKeys, KEY_PREFIX  # noqa: F401
from runtime.auth.epochs import bump_epochs, epoch_of  # noqa: F401
from runtime.auth.rate_limit import Decision, Rate, RateLimiter, RateSyntaxError  # noqa: F401
from runtime.auth.throttle import Lockout, SignInThrottle  # noqa: F401
