"""The services of the form page (issue #9): draft evaluation while the user types
(draft.py), the widget description of each field (widgets.py), and the pickers and
lookups the page asks for (pickers.py). docs/forms.md describes what they return."""
from runtime.forms.draft import Draft, evaluate_draft, issue_path  # noqa: F401
