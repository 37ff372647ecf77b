"""The judge sandbox, from Python: `judge.codejail` is edX CodeJail's API."""
