"""What the tests share: sample apps, fixtures of a second database, helpers of the
field-type and formula tests, transcript runners and paths. Test modules import from
here, never from each other (tests/test_layout.py checks it)."""
