"""edX CodeJail's API on the judge sandbox.

`judge.codejail.jail_code` and `judge.codejail.safe_exec` mirror
`codejail.jail_code` and `codejail.safe_exec`: the same functions, with the
same signatures, behaviour and exceptions. The code runs in judge's
sandbox, reached through long-lived `judge serve` processes (see
`judge.codejail.server`), never a new judge per call.
"""
