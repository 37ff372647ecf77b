"""Django settings applied to `judge.codejail.jail_code`, as CodeJail's
`codejail.django_integration_utils` applies them (kept apart from the
middleware so that it can be used without Django)."""

from . import jail_code


def apply_django_settings(code_jail_settings):
    """Apply a `settings.CODE_JAIL` dictionary: `python_bin` (with `user`),
    `limits` and `limit_overrides`."""
    python_bin = code_jail_settings.get("python_bin")
    if python_bin:
        jail_code.configure("python", python_bin, user=code_jail_settings["user"])
    for name, value in code_jail_settings.get("limits", {}).items():
        jail_code.set_limit(limit_name=name, value=value)
    for context, overrides in code_jail_settings.get("limit_overrides", {}).items():
        for name, value in overrides.items():
            jail_code.override_limit(
                limit_name=name, value=value, limit_overrides_context=context
            )
