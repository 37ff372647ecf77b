"""edX CodeJail's API on the judge sandbox.

`judge.codejail.jail_code`, `judge.codejail.safe_exec` and
`judge.codejail.django_integration` mirror CodeJail's modules of those
names: the same functions and signatures, the same behaviour and
exceptions where the sandbox allows (docs/codejail.md in the repository
lists each difference). The code runs in judge's sandbox, reached through
long-lived `judge serve` processes (see `judge.codejail.server`), never a
new judge per call.
"""
